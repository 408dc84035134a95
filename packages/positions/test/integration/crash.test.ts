import { spawn } from 'node:child_process';
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

/** Run the child until it has flushed a few times, SIGKILL it at a random moment. */
function runAndKill(
  path: string,
): Promise<{ ready: number; lastFlushed: number | undefined }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, path, String(POSITIONS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let ready: number | undefined;
    let lastFlushed: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'ready') {
          ready = Number(n);
          // Kill somewhere in the middle of the flush loop.
          timer = setTimeout(
            () => proc.kill('SIGKILL'),
            20 + Math.random() * 250,
          );
        } else if (word === 'flushed') lastFlushed = Number(n);
      }
    });
    proc.stderr
      .setEncoding('utf8')
      .on('data', (chunk: string) => (err += chunk));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || ready === undefined) {
        reject(
          new Error(
            `child exited ${String(code)}/${String(signal)} before the kill: ${err}`,
          ),
        );
        return;
      }
      resolve({ ready, lastFlushed });
    });
  });
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
      const path = join(dir.path, 'positions.json');
      let previous = 0;
      let flushesSeen = 0;
      const registry = new Registry();
      for (let kill = 0; kill < KILLS; kill++) {
        const { ready, lastFlushed } = await runAndKill(path);
        expect(ready).toBe(previous); // the child resumed from what we reloaded last time
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
        expect(round).toBeGreaterThanOrEqual(acknowledged);
        expect(round).toBeLessThanOrEqual(acknowledged + 1);
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
    },
    KILLS * 10_000,
  );
});
