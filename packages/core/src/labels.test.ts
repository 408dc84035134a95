import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { EMPTY_LABELS, freezeLabels, labelsKey, withLabels } from './labels.js';

describe('withLabels', () => {
  it('should return the same object when nothing changes', () => {
    const base = freezeLabels({ a: '1' });
    expect(withLabels(base, { a: '1' })).toBe(base);
    expect(withLabels(base, { b: undefined })).toBe(base);
  });

  it('should copy on write and leave the base untouched', () => {
    const base = freezeLabels({ a: '1', b: '2' });
    const next = withLabels(base, { a: 'x', b: undefined, c: '3' });
    expect(next).toEqual({ a: 'x', c: '3' });
    expect(base).toEqual({ a: '1', b: '2' });
    expect(Object.isFrozen(next)).toBe(true);
  });

  test.prop([
    fc.dictionary(fc.string(), fc.string()),
    fc.dictionary(fc.string(), fc.option(fc.string(), { nil: undefined })),
  ])('should equal applying the patch to a copy', (base, patch) => {
    const expected: Record<string, string> = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete expected[k];
      else expected[k] = v;
    }
    expect({ ...withLabels(freezeLabels({ ...base }), patch) }).toEqual(
      expected,
    );
  });
});

describe('labelsKey', () => {
  it('should be independent of key order', () => {
    expect(labelsKey({ b: '2', a: '1' })).toBe('{a="1", b="2"}');
    expect(labelsKey({ a: '1', b: '2' })).toBe(labelsKey({ b: '2', a: '1' }));
    expect(labelsKey(EMPTY_LABELS)).toBe('{}');
  });
});
