import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatRfc3339Nano } from '@lc/core';

/** One container's log files, written and rotated as the kubelet and a CRI runtime do. */
export interface ContainerLog {
  /** `<root>/<ns>_<pod>_<uid>/<container>` */
  readonly dir: string;
  /** The live file, `<dir>/<restart>.log`. */
  readonly path: string;
  readonly uid: string;
  readonly containerId: string;
  /**
   * Append whole messages as CRI lines (one `F` line each, or `P`
   * fragments of at most `fragmentBytes` and an `F`), each line with the
   * next time. Returns the bytes written.
   */
  write(
    messages: readonly string[],
    options?: { stream?: 'stdout' | 'stderr'; fragmentBytes?: number },
  ): number;
  /** Append raw bytes (malformed lines, lone fragments). */
  writeRaw(text: string): void;
  /**
   * The kubelet's rotation: compress every rotated file not compressed
   * yet (`.tmp`, rename to `.gz`, remove the original), rename the live
   * file to `<n>.log.<YYYYMMDD-hhmmss>`, create a new empty live file.
   * Keeps at most `maxFiles` files (the oldest `.gz` are removed).
   */
  rotate(maxFiles?: number): void;
  /** The `/var/log/containers` link of this container. */
  link(): string;
  /** Every CRI message written so far, in order. */
  readonly messages: readonly string[];
}

/** A fake node's `/var/log/pods` and `/var/log/containers`. */
export interface KubeletNode {
  readonly root: string;
  readonly containersDir: string;
  container(o: {
    namespace: string;
    pod: string;
    container: string;
    restart?: number;
    uid?: string;
  }): ContainerLog;
}

let clockNs = BigInt(Date.UTC(2026, 0, 1, 12)) * 1_000_000n;
/** Distinct, increasing CRI times (one nanosecond apart within a run). */
export function nextTime(): string {
  clockNs += 1_000_123n;
  const ms = clockNs / 1_000_000n;
  return formatRfc3339Nano({
    timestampMs: Number(ms),
    timestampNanos: Number(clockNs - ms * 1_000_000n),
  });
}

let rotationSecond = Date.UTC(2026, 0, 1, 12) / 1000;
/** The kubelet's rotation suffix; each rotation of a test gets the next second. */
function rotationSuffix(): string {
  rotationSecond++;
  const d = new Date(rotationSecond * 1000).toISOString(); // 2026-01-01T12:00:01.000Z
  return `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}-${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}`;
}

/** A kubelet layout under `base`. */
export function kubeletNode(base: string): KubeletNode {
  const root = join(base, 'pods');
  const containersDir = join(base, 'containers');
  mkdirSync(root, { recursive: true });
  mkdirSync(containersDir, { recursive: true });
  return {
    root,
    containersDir,
    container(o) {
      const uid = o.uid ?? randomUUID();
      const restart = o.restart ?? 0;
      const dir = join(root, `${o.namespace}_${o.pod}_${uid}`, o.container);
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${restart}.log`);
      closeSync(openSync(path, 'a'));
      const containerId = randomUUID().replace(/-/g, '').repeat(2);
      const messages: string[] = [];
      return {
        dir,
        path,
        uid,
        containerId,
        messages,
        write(list, options = {}) {
          const stream = options.stream ?? 'stdout';
          const max = options.fragmentBytes ?? Infinity;
          const parts: Buffer[] = [];
          for (const m of list) {
            messages.push(m);
            const bytes = Buffer.from(m, 'utf8');
            let at = 0;
            do {
              const end = Math.min(bytes.length, at + max);
              const tag = end < bytes.length ? 'P' : 'F';
              parts.push(
                Buffer.from(`${nextTime()} ${stream} ${tag} `),
                bytes.subarray(at, end),
                Buffer.from('\n'),
              );
              at = end;
            } while (at < bytes.length);
          }
          const all = Buffer.concat(parts);
          appendFileSync(path, all);
          return all.length;
        },
        writeRaw(text) {
          appendFileSync(path, text);
        },
        rotate(maxFiles = 5) {
          const live = `${restart}.log`;
          const rotated = readdirSync(dir)
            .filter((n) => n.startsWith(`${live}.`) && !n.endsWith('.tmp'))
            .sort();
          for (const n of rotated) {
            if (n.endsWith('.gz')) continue;
            const from = join(dir, n);
            const tmp = `${from}.tmp`;
            writeFileSync(tmp, gzipSync(readFileSync(from)));
            renameSync(tmp, `${from}.gz`);
            rmSync(from);
          }
          const gz = readdirSync(dir)
            .filter((n) => n.startsWith(`${live}.`) && n.endsWith('.gz'))
            .sort();
          // The live file and the newest rotated one count too.
          for (const n of gz.slice(0, Math.max(0, gz.length - (maxFiles - 2))))
            rmSync(join(dir, n));
          renameSync(path, `${path}.${rotationSuffix()}`);
          closeSync(openSync(path, 'a'));
        },
        link() {
          const name = `${o.pod}_${o.namespace}_${o.container}-${containerId}.log`;
          const at = join(containersDir, name);
          symlinkSync(path, at);
          return at;
        },
      };
    },
  };
}
