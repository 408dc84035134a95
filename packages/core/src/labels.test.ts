import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_LABELS,
  freezeLabels,
  labelsKey,
  setOwnKey,
  withLabels,
} from './labels.js';

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
    // The model is a Map: names are data, `__proto__` included.
    const model = new Map(Object.entries(base));
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) model.delete(k);
      else model.set(k, v);
    }
    expect(
      Object.entries(withLabels(freezeLabels({ ...base }), patch)).sort(),
    ).toEqual([...model].sort());
  });
});

describe('labelsKey', () => {
  it('should be independent of key order', () => {
    expect(labelsKey({ b: '2', a: '1' })).toBe('{a="1", b="2"}');
    expect(labelsKey({ a: '1', b: '2' })).toBe(labelsKey({ b: '2', a: '1' }));
    expect(labelsKey(EMPTY_LABELS)).toBe('{}');
  });
});

describe('setOwnKey', () => {
  it('should keep names that are Object.prototype keys as own data keys', () => {
    const out: Record<string, string> = {};
    for (const k of ['__proto__', 'constructor', 'toString'])
      setOwnKey(out, k, `v-${k}`);
    expect(Object.entries(out)).toEqual([
      ['__proto__', 'v-__proto__'],
      ['constructor', 'v-constructor'],
      ['toString', 'v-toString'],
    ]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    const patch = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const labels = withLabels(EMPTY_LABELS, patch);
    expect(Object.keys(withLabels(labels, { constructor: 'c' }))).toEqual([
      '__proto__',
      'constructor',
    ]);
  });
});
