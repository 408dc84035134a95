import { randomUUID } from 'node:crypto';
import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** Options of {@link createCriWriter}. */
export interface CriWriterOptions {
  /** The kubelet's pod log root (`/var/log/pods`). */
  readonly root: string;
  /** The kubelet's link directory (`/var/log/containers`); a link is made when given. */
  readonly containersDir?: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Messages are `<prefix>-<n>`, some padded (see `longEvery`). */
  readonly prefix: string;
  /** Messages per append. @default 100 */
  readonly linesPerWrite?: number;
  /** Pause between appends, ms. @default 10 */
  readonly intervalMs?: number;
  /** Rotate after this many messages (0: never). @default 0 */
  readonly rotateEvery?: number;
  /** Files kept per container, the live one included (the kubelet's containerLogMaxFiles). @default 5 */
  readonly maxFiles?: number;
  /** Stop after this many messages. @default unlimited */
  readonly totalLines?: number;
  /**
   * Every this many messages, one is padded past `fragmentBytes` and
   * written as P fragments and an F, as a runtime splits a long line
   * (0: never). @default 0
   */
  readonly longEvery?: number;
  /** The runtime's split size. @default 16384 */
  readonly fragmentBytes?: number;
}

/** A container's CRI log, written and rotated in the background. */
export interface CriWriter {
  /** Every message written so far (what the sink must end up with). */
  readonly written: readonly string[];
  /** The live file. */
  readonly path: string;
  rotations(): number;
  /** Rotations so far: when, and how many messages were written before. */
  readonly rotationLog: readonly {
    readonly atMs: number;
    readonly linesBefore: number;
  }[];
  /** Compressed files removed past `maxFiles`. */
  deleted(): number;
  /** Resolves when `totalLines` are written (or the writer was stopped). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

let clockNs = BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n;
/** Increasing RFC 3339 nano times (every line its own). */
function nextTime(): string {
  clockNs += 1_234_567n;
  const ms = clockNs / 1_000_000n;
  const ns = String(clockNs - ms * 1_000_000n).padStart(6, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 23)}${ns}Z`;
}

/**
 * Writes a container's log as containerd does (`<time> <stream> <P|F>
 * <message>`) and rotates it as the kubelet does: compress the rotated
 * files not compressed yet (through a `.tmp`, then remove them), rename
 * the live file to `0.log.<YYYYMMDD-hhmmss>`, start a new one, remove the
 * oldest compressed files past `maxFiles`. Independent of any agent.
 */
export function createCriWriter(options: CriWriterOptions): CriWriter {
  const per = options.linesPerWrite ?? 100;
  const interval = options.intervalMs ?? 10;
  const rotateEvery = options.rotateEvery ?? 0;
  const maxFiles = options.maxFiles ?? 5;
  const total = options.totalLines ?? Number.POSITIVE_INFINITY;
  const longEvery = options.longEvery ?? 0;
  const fragment = options.fragmentBytes ?? 16_384;
  const dir = join(
    options.root,
    `${options.namespace}_${options.pod}_${randomUUID()}`,
    options.container,
  );
  const path = join(dir, '0.log');
  const written: string[] = [];
  const rotationLog: { atMs: number; linesBefore: number }[] = [];
  let running = true;
  let rotations = 0;
  let deleted = 0;
  let sinceRotation = 0;
  let second = Date.UTC(2026, 0, 1) / 1000;

  const rotate = async (): Promise<void> => {
    const names = (await readdir(dir)).filter(
      (n) => n.startsWith('0.log.') && !n.endsWith('.tmp'),
    );
    for (const n of names.sort()) {
      if (n.endsWith('.gz')) continue;
      const from = join(dir, n);
      await writeFile(`${from}.tmp`, await gzipAsync(await readFile(from)));
      await rename(`${from}.tmp`, `${from}.gz`);
      await rm(from);
    }
    const gz = (await readdir(dir))
      .filter((n) => n.startsWith('0.log.') && n.endsWith('.gz'))
      .sort();
    for (const n of gz.slice(0, Math.max(0, gz.length - (maxFiles - 2)))) {
      await rm(join(dir, n));
      deleted++;
    }
    second++;
    const d = new Date(second * 1000).toISOString();
    const suffix = `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}-${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}`;
    await rename(path, `${path}.${suffix}`);
    await writeFile(path, '');
    rotations++;
    rotationLog.push({ atMs: Date.now(), linesBefore: written.length });
  };

  const done = (async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(path, '');
    if (options.containersDir !== undefined) {
      await mkdir(options.containersDir, { recursive: true });
      const id = randomUUID().replace(/-/g, '').repeat(2);
      await symlink(
        path,
        join(
          options.containersDir,
          `${options.pod}_${options.namespace}_${options.container}-${id}.log`,
        ),
      );
    }
    while (running && written.length < total) {
      const parts: Buffer[] = [];
      for (let i = 0; i < per && written.length < total; i++) {
        const n = written.length;
        let m = `${options.prefix}-${n}`;
        if (longEvery > 0 && n % longEvery === longEvery - 1)
          m += `-${'x'.repeat(fragment + 100 + (n % 997))}`;
        written.push(m);
        const bytes = Buffer.from(m);
        const stream = n % 7 === 0 ? 'stderr' : 'stdout';
        for (let at = 0; ; at += fragment) {
          const last = at + fragment >= bytes.length;
          parts.push(
            Buffer.from(`${nextTime()} ${stream} ${last ? 'F' : 'P'} `),
            bytes.subarray(at, Math.min(bytes.length, at + fragment)),
            Buffer.from('\n'),
          );
          if (last) break;
        }
      }
      await appendFile(path, Buffer.concat(parts));
      sinceRotation += per;
      if (rotateEvery > 0 && sinceRotation >= rotateEvery) {
        sinceRotation = 0;
        await rotate();
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  })();
  return {
    written,
    path,
    rotationLog,
    rotations: () => rotations,
    deleted: () => deleted,
    done,
    async stop() {
      running = false;
      await done;
    },
  };
}
