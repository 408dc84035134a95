import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerCursor, ContainerPosition } from '@lc/core';
import {
  createJsonFilePositionStore,
  createPositionManager,
} from '@lc/positions';
import { createTempDir, serviceEnv, skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerCase, range, waitExited } from './container-helpers.js';

const LONG = process.env.LC_LONG_TESTS === '1';
const KILLS = LONG ? 30 : 3;
const CHILD = fileURLToPath(
  new URL('../fixtures/container-child.ts', import.meta.url),
);

interface Out {
  line: string;
  cursor: ContainerCursor;
}

function readOut(path: string): Out[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  // A kill can cut the last write in half; that record was not delivered.
  return text
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as Out);
}

async function savedCursor(
  path: string,
  id: string,
): Promise<ContainerPosition | undefined> {
  const pm = createPositionManager({
    store: createJsonFilePositionStore({ path }),
  });
  await pm.start();
  const p = pm.get('container', id) as ContainerPosition | undefined;
  await pm.shutdown();
  return p;
}

describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  afterEach(() => c.cleanup());

  describe('start', () => {
    it(
      `should resume exactly after its committed position across ${2 * KILLS} SIGKILLs`,
      async () => {
        const dir = await createTempDir();
        const positionsPath = join(dir.path, 'positions.json');
        const outputPath = join(dir.path, 'out.ndjson');
        const container = await c.run(
          `i=0; while true; do awk -v s=$i 'BEGIN{for(k=0;k<20;k++) print "k" s*20+k}'; i=$((i+1)); sleep 0.1; done`,
          { start: false },
        );
        const spawnChild = () => {
          const child = fork(
            CHILD,
            [
              positionsPath,
              outputPath,
              c.caseId,
              serviceEnv().dockerSocket ?? '',
            ],
            {
              execArgv: ['--conditions=@lc/source', '--import', 'tsx'],
              stdio: 'inherit',
            },
          );
          const ready = new Promise<void>((resolve, reject) => {
            child.once('message', () => resolve());
            child.once('exit', (code) =>
              reject(new Error(`child exited early: ${code}`)),
            );
          });
          const exited = new Promise<void>((resolve) =>
            child.once('exit', () => resolve()),
          );
          return { child, ready, exited };
        };
        let checkedRestarts = 0;
        for (let k = 0; k < KILLS; k++) {
          const { child, ready, exited } = spawnChild();
          await ready;
          if (k === 0) await container.start();
          const before = readOut(outputPath).length;
          // Kill it mid-stream: after it delivered something new.
          const until = Date.now() + 20_000;
          while (readOut(outputPath).length <= before && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 50));
          }
          await new Promise((r) => setTimeout(r, Math.random() * 800));
          child.kill('SIGKILL');
          await exited;
          const out = readOut(outputPath);
          const saved = await savedCursor(positionsPath, container.id);
          // The next run must start right after the committed record.
          const upto =
            saved === undefined || saved.lastTimestampNs === ''
              ? -1
              : out.findLastIndex(
                  (o) =>
                    o.cursor.timestampNs === saved.lastTimestampNs &&
                    o.cursor.linesAtTimestamp === saved.linesAtLastTimestamp,
                );
          if (saved !== undefined && saved.lastTimestampNs !== '') {
            expect(upto).toBeGreaterThanOrEqual(0);
          }
          expect(out.length).toBeGreaterThan(before);
          // Positions are committed with every delivered batch, so the
          // committed record is often the last one delivered: the restart
          // must then go on with the line after it (lines are k0, k1, ...).
          const committedLine = out[upto]?.line;
          const expectedNext =
            out[upto + 1]?.line ??
            (committedLine === undefined
              ? undefined
              : `k${Number(committedLine.slice(1)) + 1}`);
          const {
            child: next,
            ready: nextReady,
            exited: nextExited,
          } = spawnChild();
          await nextReady;
          const lengthAtRestart = out.length;
          // Wait for the restarted run's first delivery (a fixed 300 ms was
          // too short on a loaded CI machine: no restart got checked).
          const growBy = Date.now() + 10_000;
          while (
            readOut(outputPath).length <= lengthAtRestart &&
            Date.now() < growBy
          ) {
            await new Promise((r) => setTimeout(r, 50));
          }
          const after = readOut(outputPath);
          if (expectedNext !== undefined && after.length > lengthAtRestart) {
            expect(after[lengthAtRestart]?.line).toBe(expectedNext);
            checkedRestarts++;
          }
          next.kill('SIGKILL');
          await nextExited;
        }
        await container.kill();
        await waitExited(container);
        const engine = execFileSync('docker', ['logs', container.id], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        })
          .replace(/\n$/, '')
          .split('\n');
        // Final run to the end, shut down cleanly.
        const { child, ready, exited } = spawnChild();
        await ready;
        const deadline = Date.now() + 30_000;
        const lastLine = engine.at(-1);
        while (
          !readOut(outputPath).some((o) => o.line === lastLine) &&
          Date.now() < deadline
        ) {
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise((r) => setTimeout(r, 300));
        child.kill('SIGTERM');
        await exited;

        const lines = readOut(outputPath).map((o) => o.line);
        expect(engine.length).toBeGreaterThan(100);
        expect(engine).toEqual(range('k', engine.length));
        // Every restart replays a suffix of what it had delivered: the
        // de-duplicated sequence is the exact output, in order.
        const firstSeen = lines.filter((l, i) => lines.indexOf(l) === i);
        expect(firstSeen).toEqual(engine);
        expect(checkedRestarts).toBeGreaterThan(0);
        await dir.cleanup();
      },
      (KILLS * 15 + 60) * 1000,
    );
  });
});
