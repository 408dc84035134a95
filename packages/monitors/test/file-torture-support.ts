import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Bytes of one writer line with the default padding (number + space + 80 x + newline, ~90). */
export const WRITER_PAD = 80;

export interface RotatorReport {
  rotations: Record<string, number>;
  copytruncateWindowBytes: number;
  /** Numbers of the lines written after a copy and before its truncate. */
  windowNumbers: number[];
}

export function startWriter(path: string): ChildProcess {
  return fork(fixture('file-writer.mjs'), [path, '20', String(WRITER_PAD)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export function startRotator(
  path: string,
  modes: string,
  minMs: number,
  maxMs: number,
  keep = 6,
): ChildProcess {
  return fork(
    fixture('file-rotator.mjs'),
    [path, modes, String(minMs), String(maxMs), String(keep)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
}

export function nextMessage<T>(
  child: ChildProcess,
  op: string,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${op} from child within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const on = (m: { op: string }): void => {
      if (m.op !== op) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

/** Numbers seen in `lines` ("<n> xxx..."), counted. */
export function countNumbers(lines: Iterable<string>): Map<number, number> {
  const seen = new Map<number, number>();
  for (const line of lines) {
    const m = /^(\d+) x/.exec(line);
    if (m === null) continue;
    const n = Number(m[1]);
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  return seen;
}

export function missingNumbers(
  seen: Map<number, number>,
  count: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (!seen.has(i)) out.push(i);
  return out;
}

/**
 * Missing numbers not explained by the copytruncate race: lines the rotator
 * saw between copy and truncate are excused; so is at most one writer batch
 * per copytruncate (a write landing between the rotator's last read and
 * its ftruncate, microseconds apart).
 */
export function unexplainedLoss(
  missing: number[],
  report: RotatorReport,
  batchLines: number,
): { unexplained: number[]; slack: number } {
  const window = new Set(report.windowNumbers);
  const unexplained = missing.filter((n) => !window.has(n));
  return {
    unexplained,
    slack: (report.rotations.copytruncate ?? 0) * batchLines,
  };
}

/** Compact "a-b,c" form of sorted numbers, for failure output. */
export function ranges(ns: readonly number[], max = 40): string {
  const out: string[] = [];
  let start = ns[0];
  let prev = ns[0];
  for (const n of [...ns.slice(1), Infinity]) {
    if (n !== (prev as number) + 1) {
      out.push(start === prev ? `${start}` : `${start}-${prev}`);
      start = n;
    }
    prev = n;
  }
  return out.slice(0, max).join(',');
}
