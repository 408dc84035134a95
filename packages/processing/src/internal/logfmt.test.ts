import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseLogfmt } from './logfmt.js';

describe('parseLogfmt', () => {
  it('should handle quotes, escapes and bare keys', () => {
    expect(parseLogfmt('a=1 b="x y" c="q\\"d" flag')).toEqual({
      a: '1',
      b: 'x y',
      c: 'q"d',
      flag: 'true',
    });
  });

  test.prop([
    fc.dictionary(
      fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
      fc.string({ maxLength: 20 }),
    ),
  ])('should round-trip quoted values', (dict) => {
    const line = Object.entries(dict)
      .map(
        ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
      )
      .join(' ');
    expect(parseLogfmt(line)).toEqual(dict);
  });
});
