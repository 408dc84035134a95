import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { AckSet } from './ack-set.js';

describe('AckSet', () => {
  test.prop([
    fc.array(fc.tuple(fc.nat(200), fc.nat(5)), { maxLength: 60 }),
    fc.nat(220),
  ])(
    'should agree with a plain Set on has/countInRange/coversRange/nextUnacked',
    (ops, probe) => {
      const set = new AckSet();
      const model = new Set<number>();
      for (const [start, len] of ops) {
        set.addRange(start, start + len);
        for (let s = start; s <= start + len; s++) model.add(s);
      }
      for (let s = 0; s < 220; s++) expect(set.has(s)).toBe(model.has(s));
      let count = 0;
      for (let s = probe; s <= probe + 10; s++) if (model.has(s)) count++;
      expect(set.countInRange(probe, probe + 10)).toBe(count);
      expect(set.coversRange(probe, probe + 3)).toBe(
        [0, 1, 2, 3].every((d) => model.has(probe + d)),
      );
      let next = probe;
      while (model.has(next)) next++;
      expect(set.nextUnacked(probe)).toBe(next);
      const arr = set.toArray();
      for (let i = 2; i < arr.length; i += 2)
        expect(arr[i] as number).toBeGreaterThan((arr[i - 1] as number) + 1);
    },
  );
});
