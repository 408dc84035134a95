import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import {
  committedOffset,
  deliveredRecords,
  heldRecords,
  runCrashChild,
} from './crash-support.js';

const KILLS = process.env.LC_LONG_TESTS === '1' ? 200 : 20;
const TOTAL = process.env.LC_LONG_TESTS === '1' ? 1_000_000 : 50_000;
// Killed runs dispatch at this rate so that kills land mid-stream; the
// final run goes at full speed.
const RATE = 5_000;

describe('createDispatcher', () => {
  describe('crash (SIGKILL) with the @lc/persistence WAL', () => {
    it(
      `should deliver every record at least once and never commit past one neither delivered nor in the WAL across ${KILLS} kills`,
      async () => {
        const tmp = await createTempDir();
        const dir = tmp.path;
        let recoveredTotal = 0;
        let kills = 0;
        for (let i = 0; i < KILLS; i++) {
          const { out, killed } = await runCrashChild({
            dir,
            total: TOTAL,
            rate: RATE,
            killAfterMs: 20 + Math.floor(Math.random() * 600),
          });
          const start = out.split('\n').find((l) => l.includes('"started"'));
          if (start !== undefined)
            recoveredTotal += (JSON.parse(start) as { recovered: number })
              .recovered;
          if (killed) kills++;
          else process.stdout.write(`run ${i} completed before its kill\n`);
          // The invariant at every crash: the committed position never
          // passes a record that was neither delivered nor held in the WAL
          // (persisted batches count as held: the next run delivers them).
          const offset = committedOffset(dir);
          const got = deliveredRecords(dir);
          const held = await heldRecords(dir);
          for (let n = 1; n <= offset; n++) {
            if (!got.has(n) && !held.has(n))
              throw new Error(
                `kill ${i}: committed ${offset} but record ${n} was neither delivered nor held`,
              );
          }
          if (!killed) break;
        }
        const final = await runCrashChild({ dir, total: TOTAL, rate: 0 });
        expect(final.killed).toBe(false);
        const got = deliveredRecords(dir);
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
