import { describe, expect, it } from 'vitest';
import { describeValue } from './describe-value.js';
import { didYouMean } from './did-you-mean.js';

describe('didYouMean', () => {
  it('should suggest the closest candidate within a small distance', () => {
    expect(didYouMean('bach_size', ['batch_size', 'workers'])).toBe(
      'batch_size',
    );
    expect(didYouMean('JSON_PARSE', ['json_parse'])).toBe('json_parse');
  });

  it('should suggest nothing for unrelated input', () => {
    expect(didYouMean('zzzzzz', ['batch_size', 'workers'])).toBeUndefined();
  });
});

describe('describeValue', () => {
  it('should name the kind of a value, or show it briefly', () => {
    expect(describeValue(undefined)).toBe('nothing');
    expect(describeValue([1])).toBe('a list');
    expect(describeValue({ a: 1 })).toBe('a map');
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue('y'.repeat(100))).toHaveLength(61);
  });
});
