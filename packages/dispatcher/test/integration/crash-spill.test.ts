import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import {
  committedOffset,
  deliveredRecords,
  heldRecords,
  runCrashChild,
} from './crash-support.js';

// The crash test again, with the intake small, the sink slow and the disk
// spill on. Not durable: this checks the claim that makes that safe — no
// position is ever committed past a spilled record, and after a SIGKILL the
// source reads them again. Durable (the default): positions move past
// spilled records once written, and after a SIGKILL the spill delivers them;
// every record must still arrive.
const KILLS = process.env.LC_LONG_TESTS === '1' ? 100 : 12;
const TOTAL = process.env.LC_LONG_TESTS === '1' ? 300_000 : 30_000;
const RATE = 5_000;

function spilledIn(out: string): number {
  let max = 0;
  for (const line of out.split('\n')) {
    if (!line.includes('"spilled"')) continue;
    max = Math.max(max, (JSON.parse(line) as { spilled: number }).spilled);
  }
  return max;
}

describe('createDispatcher', () => {
  describe.each([
    { mode: 'spill', durable: false },
    { mode: 'spill-durable', durable: true },
  ])(
    'crash (SIGKILL) with the disk spill on (durable: $durable)',
    ({ mode, durable }) => {
      it(
        durable
          ? `should deliver every record after ${KILLS} kills, spilled records included`
          : `should never commit past a spilled record and deliver every record after ${KILLS} kills`,
        async () => {
          const tmp = await createTempDir();
          const dir = tmp.path;
          let kills = 0;
          let spilledBeforeKills = 0;
          for (let i = 0; i < KILLS; i++) {
            const { out, killed } = await runCrashChild({
              dir,
              total: TOTAL,
              rate: RATE,
              killAfterMs: 50 + Math.floor(Math.random() * 600),
              mode,
            });
            spilledBeforeKills += spilledIn(out);
            if (killed) kills++;
            // The committed position never passes a record that is
            // neither delivered nor held: in the WAL, or in a durable spill
            // (a non-durable one is discarded at the next start).
            const offset = committedOffset(dir);
            const got = deliveredRecords(dir);
            const held = await heldRecords(dir, { spill: durable });
            for (let n = 1; n <= offset; n++) {
              if (!got.has(n) && !held.has(n))
                throw new Error(
                  `kill ${i}: committed ${offset} but record ${n} was neither delivered nor held`,
                );
            }
            if (!killed) break;
          }
          const final = await runCrashChild({
            dir,
            total: TOTAL,
            rate: 0,
            mode,
          });
          expect(final.killed).toBe(false);
          const got = deliveredRecords(dir);
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
    },
  );
});
