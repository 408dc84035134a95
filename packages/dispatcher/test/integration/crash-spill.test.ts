import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';

// The crash test again, with the intake small, the sink slow and the disk
// spill on: spilled records are not durable, so this checks the claim that
// makes that safe — no position is ever committed past a spilled record,
// and after a SIGKILL the source reads them again.
const child = fileURLToPath(
  new URL('../fixtures/crash-child.ts', import.meta.url),
);
const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
const KILLS = process.env.LC_LONG_TESTS === '1' ? 100 : 12;
const TOTAL = process.env.LC_LONG_TESTS === '1' ? 300_000 : 30_000;
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
        'spill',
      ],
      { cwd: pkgDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
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
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop(); // a kill can cut the last line
  return new Set(lines.map(Number));
}

function committedOffset(dir: string): number {
  const path = join(dir, 'position.json');
  return existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as { offset: number }).offset
    : 0;
}

function spilledIn(out: string): number {
  let max = 0;
  for (const line of out.split('\n')) {
    if (!line.includes('"spilled"')) continue;
    max = Math.max(max, (JSON.parse(line) as { spilled: number }).spilled);
  }
  return max;
}

describe('createDispatcher', () => {
  describe('crash (SIGKILL) with the disk spill on', () => {
    it(
      `should never commit past a spilled record and deliver every record after ${KILLS} kills`,
      async () => {
        const tmp = await createTempDir();
        const dir = tmp.path;
        let kills = 0;
        let spilledBeforeKills = 0;
        for (let i = 0; i < KILLS; i++) {
          const { out, killed } = await run(
            dir,
            50 + Math.floor(Math.random() * 600),
          );
          spilledBeforeKills += spilledIn(out);
          if (killed) kills++;
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
        // The spill was exercised, in killed runs and in the final one.
        process.stdout.write(`spilled before kills ${spilledBeforeKills}\n`);
        expect(spilledBeforeKills).toBeGreaterThan(0);
        expect(spilledIn(final.out)).toBeGreaterThan(0);
        await tmp.cleanup();
      },
      KILLS * 30_000,
    );
  });
});
