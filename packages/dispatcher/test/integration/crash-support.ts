import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDiskLog } from '@lc/buffer';
import type { LogRecord } from '@lc/core';
import { createBatchPersistence } from '@lc/persistence';
import {
  decodeChunk,
  SpillDictionary,
} from '../../src/internal/spill-codec.js';

// Shared by the crash tests: run `fixtures/crash-child.ts`, SIGKILL it at a
// given instant after it started dispatching, and read what it left behind.

const child = fileURLToPath(
  new URL('../fixtures/crash-child.ts', import.meta.url),
);
const pkgDir = fileURLToPath(new URL('../..', import.meta.url));

/** One run of the crash child over `dir`. */
export interface CrashRunOptions {
  readonly dir: string;
  /** Records the source has in all. */
  readonly total: number;
  /** Records per second; 0 = as fast as possible. */
  readonly rate: number;
  /** SIGKILL this long after the child reports it started; none: run to the end. */
  readonly killAfterMs?: number;
  /** Child mode (`spill`), passed as its 4th argument. */
  readonly mode?: string;
}

/** Resolve with the child's stdout and whether the kill landed. */
export function runCrashChild(
  o: CrashRunOptions,
): Promise<{ out: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        '--conditions=@lc/source',
        '--import',
        'tsx',
        child,
        o.dir,
        String(o.total),
        String(o.rate),
        ...(o.mode === undefined ? [] : [o.mode]),
      ],
      { cwd: pkgDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      // Kill at the given instant after it started dispatching.
      if (
        o.killAfterMs !== undefined &&
        timer === undefined &&
        out.includes('"started"')
      ) {
        timer = setTimeout(() => proc.kill('SIGKILL'), o.killAfterMs);
      }
    });
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ out, killed: true });
      else if (code === 0) resolve({ out, killed: false });
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

/** Record numbers the sink delivered (whole lines only: a kill can cut the last). */
export function deliveredRecords(dir: string): Set<number> {
  const path = join(dir, 'delivered.log');
  if (!existsSync(path)) return new Set();
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  return new Set(lines.map(Number));
}

/** The committed source offset the child last wrote (0 before any). */
export function committedOffset(dir: string): number {
  const path = join(dir, 'position.json');
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { offset: number }).offset
    : 0;
}

/**
 * Record numbers held by what the killed child left on disk: unsettled
 * batches in its WAL and, with `spill` (a durable spill), unread chunks.
 * Records there may be committed before they are delivered (the next run
 * delivers them first).
 */
export async function heldRecords(
  dir: string,
  options: { readonly spill?: boolean } = {},
): Promise<Set<number>> {
  const held = new Set<number>();
  const add = (records: readonly LogRecord[]) => {
    for (const r of records) held.add((r.cursor as { offset: number }).offset);
  };
  const wal = join(dir, 'wal');
  if (existsSync(wal)) {
    const store = await createBatchPersistence({ directory: wal });
    for await (const b of store.recover()) add(b.records);
    await store.shutdown();
  }
  const spill = join(dir, 'spill');
  if (options.spill === true && existsSync(spill)) {
    const log = await createDiskLog({ directory: spill, fsync: 'never' });
    const dict = new SpillDictionary();
    for await (const e of log.read()) add(decodeChunk(e.payload, dict));
    await log.shutdown();
  }
  return held;
}
