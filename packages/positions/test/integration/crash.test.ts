// Real SIGKILLs: a child commits and flushes positions in a loop while the
// parent kills it at random moments, then reloads the file and checks it is
// consistent, durable and at most one flush behind what the child reported.
//
// The bookkeeping is the child's report file, appended with synchronous
// writes, so it holds every line the child wrote before it was killed; never
// its stdout: lines the parent is too slow to read stay queued inside the
// child and die with it, and a lost "flushed" line weakened the "durable"
// check (and could fail "at most one flush behind" falsely).
//
// On failure the data directory as it was before the failing kill and as it
// is after it, and every child's report, are kept in a directory named in
// the error.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { ContainerPosition, FilePosition } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { createJsonFilePositionStore } from '../../src/index.js';

const KILLS = process.env.LC_LONG_TESTS === '1' ? 200 : 30;
const POSITIONS = 50;
const source = fileURLToPath(
  new URL('../fixtures/crash-child.ts', import.meta.url),
);
// Bundled once (TypeScript sources of this package and @lc/core) so each of
// the many children starts in milliseconds; kept under node_modules so its
// external imports resolve and git ignores it.
const child = fileURLToPath(
  new URL(
    '../../node_modules/.cache/lc-positions/crash-child.mjs',
    import.meta.url,
  ),
);

/**
 * Run the child until it has flushed a few times, SIGKILL it at a random
 * moment, and resolve with what its report file says: the round it resumed
 * from and the last round whose flush resolved.
 */
function runAndKill(
  path: string,
  reportPath: string,
): Promise<{ ready: number; lastFlushed: number | undefined }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [child, path, String(POSITIONS), reportPath],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      // Kill somewhere in the middle of the flush loop.
      if (timer === undefined && /^ready \d+\n/m.test(out))
        timer = setTimeout(
          () => proc.kill('SIGKILL'),
          20 + Math.random() * 250,
        );
    });
    proc.stderr
      .setEncoding('utf8')
      .on('data', (chunk: string) => (err += chunk));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || timer === undefined) {
        reject(
          new Error(
            `child exited ${String(code)}/${String(signal)} before the kill: ${err}`,
          ),
        );
        return;
      }
      readFile(reportPath, 'utf8').then((text) => {
        // A partial last line (killed mid-write) is ignored.
        let ready: number | undefined;
        let lastFlushed: number | undefined;
        for (const line of text.split('\n').slice(0, -1)) {
          const [word, n] = line.split(' ');
          if (word === 'ready') ready = Number(n);
          else if (word === 'flushed') lastFlushed = Number(n);
        }
        if (ready === undefined)
          reject(new Error(`no ready line in ${reportPath}`));
        else resolve({ ready, lastFlushed });
      }, reject);
    });
  });
}

/** Copy a failed kill's data directories and the children's reports aside. */
async function keepEvidence(
  data: string,
  before: string,
  reports: string,
): Promise<string> {
  const kept = await mkdtemp(join(tmpdir(), 'lc-pos-crash-evidence-'));
  await cp(before, join(kept, 'before'), { recursive: true });
  await cp(data, join(kept, 'after'), { recursive: true });
  await cp(reports, join(kept, 'reports'), { recursive: true });
  return kept;
}

describe('createJsonFilePositionStore + createPositionManager under SIGKILL', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await createTempDir('lc-pos-crash-');
    await build({
      entryPoints: [source],
      outfile: child,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@lc/source'],
      external: ['prom-client'],
      logLevel: 'silent',
    });
  });
  afterAll(() => dir.cleanup());

  it(
    `should reload a consistent state at most one flush behind after ${KILLS} kills`,
    async () => {
      const data = join(dir.path, 'data');
      const before = join(dir.path, 'data.before');
      const reports = join(dir.path, 'reports');
      await mkdir(data);
      await mkdir(reports);
      const path = join(data, 'positions.json');
      let previous = 0;
      let flushesSeen = 0;
      const registry = new Registry();
      try {
        for (let kill = 0; kill < KILLS; kill++) {
          await rm(before, { recursive: true, force: true });
          await cp(data, before, { recursive: true });
          const { ready, lastFlushed } = await runAndKill(
            path,
            join(reports, `${kill}.log`),
          );
          // The child resumed from what we reloaded last time.
          expect(ready, `kill ${kill}: resumed from`).toBe(previous);
          const store = createJsonFilePositionStore({ path, registry });
          const loaded = await store.load();
          await store.close();
          const files = loaded.filter(
            (p): p is FilePosition => p.kind === 'file',
          );
          const round =
            previous === 0 && files.length === 0
              ? 0
              : (files.find((p) => p.id === '1:0')?.offset ?? -1);
          // Atomic: every position of the file is from the same flush.
          if (round > 0) {
            expect(files).toHaveLength(POSITIONS);
            for (const p of files)
              expect(p.offset).toBe(round * (Number(p.id.split(':')[1]) + 1));
            const c = loaded.find(
              (p): p is ContainerPosition => p.kind === 'container',
            );
            expect(c?.lastLineHash).toBe(`h${round}`);
          }
          // Durable and at most one flush behind what the child reported.
          const acknowledged = lastFlushed ?? previous;
          expect(round, `kill ${kill}: reloaded round`).toBeGreaterThanOrEqual(
            acknowledged,
          );
          expect(round, `kill ${kill}: reloaded round`).toBeLessThanOrEqual(
            acknowledged + 1,
          );
          // Never backwards across crashes.
          expect(round).toBeGreaterThanOrEqual(previous);
          if (lastFlushed !== undefined) flushesSeen++;
          previous = round;
        }
        expect(flushesSeen).toBeGreaterThan(KILLS / 2);
        // No kill ever left a corrupt main file (the rename is atomic).
        const corrupt =
          (await registry.getSingleMetricAsString(
            'lc_positions_corruption_detected_total',
          )) ?? '';
        expect(corrupt).not.toMatch(/} [1-9]/);
      } catch (error) {
        const kept = await keepEvidence(data, before, reports);
        if (error instanceof Error)
          error.message = `${error.message}\n(evidence kept in ${kept})`;
        throw error;
      } finally {
        await rm(before, { recursive: true, force: true });
      }
    },
    KILLS * 10_000,
  );
});
