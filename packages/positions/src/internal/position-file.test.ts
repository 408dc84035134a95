import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { Position } from '@lc/core';
import { parsePositions, serializeLines } from './position-file.js';

const position: fc.Arbitrary<Position> = fc.record({
  kind: fc.string(),
  id: fc.string(),
  cursor: fc.jsonValue(),
  updatedAtMs: fc.nat(),
}) as fc.Arbitrary<Position>;

describe('serializeLines', () => {
  test.prop([fc.array(position, { maxLength: 20 })])(
    'should round-trip through parsePositions, any strings included',
    (positions) => {
      const lines = positions.map((p) => JSON.stringify(p));
      const parsed = parsePositions(serializeLines(lines, 1));
      expect(parsed.ok).toBe(true);
      if (parsed.ok)
        expect(parsed.positions).toEqual(JSON.parse(`[${lines.join(',')}]`));
    },
  );

  test.prop([
    fc.array(position, { minLength: 1, maxLength: 10 }),
    fc.nat(),
    fc.integer({ min: 1, max: 255 }),
  ])(
    'should reject any single-byte change of the positions',
    (positions, at, delta) => {
      const text = serializeLines(
        positions.map((p) => JSON.stringify(p)),
        1,
      );
      const start = text.indexOf(',"positions":[') + 14;
      const i = start + (at % (text.length - 3 - start));
      const changed =
        text.slice(0, i) +
        String.fromCharCode((text.charCodeAt(i) + delta) % 256) +
        text.slice(i + 1);
      fc.pre(changed !== text);
      expect(parsePositions(changed).ok).toBe(false);
    },
  );

  test.prop([fc.array(position, { minLength: 1, maxLength: 10 }), fc.nat()])(
    'should reject every truncation',
    (positions, at) => {
      const text = serializeLines(
        positions.map((p) => JSON.stringify(p)),
        1,
      );
      expect(parsePositions(text.slice(0, at % text.length)).ok).toBe(false);
    },
  );
});
