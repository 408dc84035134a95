// SIGKILLs of the real lc-agent binary reading pod logs with
// sources.kubernetes (defaults), while a containerd-like writer appends
// numbered messages in the CRI format (some split into P/F fragments) and
// a kubelet-like rotator rotates the file by itself: rename to
// 0.log.<time>, a new 0.log, and every rotated file not compressed yet
// gzipped and removed, so a generation the agent had not finished when it
// was killed is only left as a .gz. Kills are timed from each spawn. Each
// message is then checked: delivered, duplicated or lost.
import { join } from 'node:path';
import { createJsonFilePositionStore } from '@lc/positions';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createCriWriter,
  createScenario,
  DEFAULT_IN_FLIGHT_LINES,
  formatTallies,
  randomBetween,
  readFileSink,
  runKillSchedule,
  tally,
  waitFor,
} from '../src/index.js';
import type { Scenario, Tally } from '../src/index.js';

const LONG = process.env['LC_LONG_TESTS'] === '1';
const TOTAL = LONG ? 200_000 : 40_000;
const rows: Tally[] = [];
let scenario: Scenario | undefined;

afterEach(async () => {
  await scenario?.close();
  scenario = undefined;
});

afterAll(() => {
  if (rows.length > 0)
    console.info(`\nkubernetes kill scenarios\n${formatTallies(rows)}\n`);
});

/** When the first agent recorded it watches the pod logs (its `file-watch` marker). */
async function watchedSince(positionsFile: string): Promise<number> {
  const store = createJsonFilePositionStore({ path: positionsFile });
  const marker = (await store.load()).find((p) => p.kind === 'file-watch');
  await store.close();
  const since = (marker as { cursor?: { sinceMs?: number } } | undefined)
    ?.cursor?.sinceMs;
  expect(since).toBeTypeOf('number');
  return since as number;
}

describe('lc-agent with sources.kubernetes at defaults', () => {
  it(
    'should lose nothing across SIGKILLs while the kubelet rotates and compresses unfinished files',
    async () => {
      scenario = await createScenario('kubernetes', { kubernetes: true });
      const { root, start } = scenario;
      // ~4,000 messages/s for the whole kill schedule, a rotation every
      // 0.5 s: an agent that is down for a restart delay and its start-up
      // misses two rotations or more, so the file it was reading is
      // compressed before it finished it.
      const writer = createCriWriter({
        root: join(root, 'pods'),
        containersDir: join(root, 'containers'),
        namespace: 'faults',
        pod: 'writer-0',
        container: 'app',
        prefix: 'k',
        linesPerWrite: 40,
        intervalMs: 10,
        rotateEvery: 2000,
        // Nothing is removed during the run: a loss is the agent's.
        maxFiles: 1000,
        totalLines: TOTAL,
        longEvery: 500,
      });
      const early = [0, 40, 90];
      const lifetimesMs = [
        ...early,
        ...Array.from({ length: LONG ? 10 : 4 }, () =>
          randomBetween(300, 2000),
        ),
      ];
      const schedule = await runKillSchedule({
        start,
        lifetimesMs,
        restartDelayMs: () => randomBetween(300, 900),
        signal: 'SIGKILL',
      });
      await writer.done;
      const last = start();
      await last.ready();
      const all = writer.written;
      // Messages rotated away before any agent recorded its watch were in
      // no file an agent knew: they are reported, not required.
      const since = await watchedSince(join(root, 'data', 'positions.json'));
      const unwatched = writer.rotationLog
        .filter((r) => r.atMs < since)
        .reduce((n, r) => Math.max(n, r.linesBefore), 0);
      const required = all.slice(unwatched);
      await waitFor(async () => {
        const got = new Set(await readFileSink(join(root, 'out')));
        return required.every((l) => got.has(l));
      }, 240_000);
      expect(await last.stop()).toBe(0);
      const delivered = await readFileSink(join(root, 'out'));
      // Nothing delivered that was not written (a fragment, a line cut
      // in the middle), in the unwatched part or not.
      const written = new Set(all);
      const unexpected = delivered.filter((l) => !written.has(l));
      if (unexpected.length > 0) {
        const kept = await scenario.keepEvidence();
        console.info(`unexpected lines; evidence in ${kept}`);
      }
      expect(unexpected.map((l) => l.slice(0, 120))).toEqual([]);
      const fromGz = scenario.agents
        .map(
          (a) =>
            a
              .stderr()
              .split('\n')
              .filter((l) =>
                l.includes('finishing a generation from its compressed copy'),
              ).length,
        )
        .reduce((a, b) => a + b, 0);
      const kills = schedule.agents;
      const t = tally(
        `SIGKILL x${kills} (${early.join('/')} ms after spawn, then 300-2000 ms), ${writer.rotations()} kubelet rotations, ${fromGz} unfinished files finished from their .gz${unwatched > 0 ? `; ${unwatched} messages rotated away before the first watch, not counted` : ''}`,
        required,
        delivered.filter((l) => Number(l.split('-')[1]) >= unwatched),
      );
      rows.push(t);
      if (t.lost > 0 || process.env['LC_KEEP_EVIDENCE'] === '1') {
        const kept = await scenario.keepEvidence();
        console.info(
          `lost e.g. ${t.lostSample.join(', ')}; evidence in ${kept}`,
        );
      }
      expect(writer.deleted()).toBe(0);
      expect(t.lost).toBe(0);
      expect(t.duplicates).toBeLessThanOrEqual(kills * DEFAULT_IN_FLIGHT_LINES);
    },
    LONG ? 900_000 : 300_000,
  );
});
