import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(
  new URL('../fixtures/crash-child.ts', import.meta.url),
);
const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
const KILLS = process.env.LC_LONG_TESTS === '1' ? 200 : 20;
const TOTAL = process.env.LC_LONG_TESTS === '1' ? 1_000_000 : 50_000;
// Killed runs dispatch at this rate so that kills land mid-stream; the
// final run goes at full speed.
const RATE = 5_000;

function run(
  dir: string,
  killAfterMs: number | undefined,
  rate = RATE,
): Promise<{ out: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        '--conditions=@lc/source',
        '--import',
        'tsx',
        child,
        dir,
        String(TOTAL),
        String(rate),
      ],
      {
        cwd: pkgDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      // Kill at a random instant after it started dispatching.
      if (
        killAfterMs !== undefined &&
        timer === undefined &&
        out.includes('"started"')
      ) {
        timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
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

function delivered(dir: string): Set<number> {
  const path = join(dir, 'delivered.log');
  if (!existsSync(path)) return new Set();
  const text = readFileSync(path, 'utf8');
  // A kill can cut the last line of an append; only whole lines count.
  const lines = text.split('\n');
  lines.pop();
  return new Set(lines.map(Number));
}

function committedOffset(dir: string): number {
  const path = join(dir, 'position.json');
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { offset: number }).offset
    : 0;
}

describe('createDispatcher', () => {
  describe('crash (SIGKILL) with the @lc/persistence WAL', () => {
    it(
      `should deliver every record at least once and never commit past an undelivered one across ${KILLS} kills`,
      async () => {
        const tmp = await createTempDir();
        const dir = tmp.path;
        let recoveredTotal = 0;
        let kills = 0;
        for (let i = 0; i < KILLS; i++) {
          const { out, killed } = await run(
            dir,
            20 + Math.floor(Math.random() * 600),
          );
          const start = out.split('\n').find((l) => l.includes('"started"'));
          if (start !== undefined)
            recoveredTotal += (JSON.parse(start) as { recovered: number })
              .recovered;
          if (killed) kills++;
          else process.stdout.write(`run ${i} completed before its kill\n`);
          // The invariant at every crash: the committed position never
          // passes a record that was not delivered.
          const offset = committedOffset(dir);
          const got = delivered(dir);
          for (let n = 1; n <= offset; n++) {
            if (!got.has(n))
              throw new Error(
                `kill ${i}: committed ${offset} but record ${n} was never delivered`,
              );
          }
          if (!killed) break;
        }
        const final = await run(dir, undefined, 0);
        expect(final.killed).toBe(false);
        const got = delivered(dir);
        const missing: number[] = [];
        for (let n = 1; n <= TOTAL; n++) if (!got.has(n)) missing.push(n);
        expect(missing.slice(0, 10)).toEqual([]);
        expect(committedOffset(dir)).toBe(TOTAL);
        expect(kills).toBeGreaterThan(KILLS / 2);
        // The WAL was exercised: some restarts found unsettled batches.
        process.stdout.write(
          `${kills} kills, ${recoveredTotal} records recovered from the WAL\n`,
        );
        expect(recoveredTotal).toBeGreaterThan(0);
        await tmp.cleanup();
      },
      KILLS * 20_000,
    );
  });
});
