import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { FileWakeups } from './file-wakeups.js';
import type { TailedFile } from './tailed-file.js';

/** Stand-ins: FileWakeups only keys on object identity. */
function files(n: number): TailedFile[] {
  return Array.from({ length: n }, (_, i) => ({ id: `f${i}` }) as TailedFile);
}

describe('FileWakeups', () => {
  describe('due', () => {
    it('should return a parked file once its due time is reached, not before', () => {
      const w = new FileWakeups();
      const [a, b] = files(2) as [TailedFile, TailedFile];
      w.wake(a);
      w.wake(b);
      expect(w.due(0)).toEqual([a, b]);
      w.park(a, 10_000);
      expect(w.due(9_999)).toEqual([b]);
      expect(w.parkedCount).toBe(1);
      expect(w.due(10_000)).toEqual([b, a]);
      expect(w.parkedCount).toBe(0);
    });

    it('should release every bucket passed over by a long gap', () => {
      const w = new FileWakeups();
      const fs = files(50);
      w.due(0);
      fs.forEach((f, i) => w.park(f, 1 + i * 60_000));
      expect(w.due(1_000_000_000)).toHaveLength(50);
    });

    test.prop([
      fc.array(
        fc.oneof(
          fc.record({
            op: fc.constant('park' as const),
            file: fc.nat(9),
            in: fc.integer({ min: 1, max: 120_000 }),
          }),
          fc.record({ op: fc.constant('wake' as const), file: fc.nat(9) }),
          fc.record({ op: fc.constant('forget' as const), file: fc.nat(9) }),
          fc.record({
            op: fc.constant('advance' as const),
            by: fc.integer({ min: 0, max: 90_000 }),
          }),
        ),
        { maxLength: 200 },
      ),
    ])(
      'should return exactly the woken files and the parked ones whose bucket is due (model)',
      (ops) => {
        const w = new FileWakeups();
        const fs = files(10);
        // Model: undefined = forgotten, 'awake', or the due time.
        const model = new Map<TailedFile, 'awake' | number>();
        let now = 0;
        w.due(now);
        for (const o of ops) {
          if (o.op === 'advance') {
            now += o.by;
            const got = new Set(w.due(now));
            for (const [f, s] of model)
              // Released at the end of its 250 ms bucket: up to 250 ms late.
              if (s !== 'awake' && Math.ceil(s / 250) * 250 <= now)
                model.set(f, 'awake');
            const want = new Set(
              [...model].filter(([, s]) => s === 'awake').map(([f]) => f),
            );
            expect(got).toEqual(want);
            continue;
          }
          const f = fs[o.file] as TailedFile;
          if (o.op === 'wake') {
            w.wake(f);
            model.set(f, 'awake');
          } else if (o.op === 'forget') {
            w.forget(f);
            model.delete(f);
          } else {
            w.park(f, now + o.in);
            model.set(f, now + o.in);
          }
        }
        // Everything parked is due after the longest park.
        now += 120_250;
        expect(new Set(w.due(now))).toEqual(new Set(model.keys()));
        expect(w.parkedCount).toBe(0);
      },
    );
  });
});
