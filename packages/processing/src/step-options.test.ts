import { describe, expect, it } from 'vitest';
import {
  duration,
  durationValue,
  nameList,
  regex,
  section,
  stringMap,
} from './step-options.js';

const issues = (r: {
  success: boolean;
  error?: { issues: { message: string }[] };
}) => r.error?.issues.map((i) => i.message) ?? [];

describe('section', () => {
  it('should reject an unknown key naming the closest known one', () => {
    const s = section({ pattern: regex('p'), fields: nameList('f') });
    expect(issues(s.safeParse({ patern: 'x' }))).toContain(
      'unknown key "patern", did you mean "pattern"?',
    );
    expect(issues(s.safeParse({ pattern: 'x', zzz: 1 }))).toEqual([
      'unknown key "zzz" (known: pattern, fields)',
    ]);
  });
});

describe('duration', () => {
  it('should read a number (ms) or a human string, default when absent, and say its default', () => {
    const d = duration(2_000, 'How long');
    expect(d.parse(150)).toBe(150);
    expect(d.parse('5s')).toBe(5_000);
    expect(d.parse(undefined)).toBe(2_000);
    expect(d.description).toBe('How long @default 2s');
    expect(issues(d.safeParse(true))[0]).toMatch(
      /^expected a duration like "5s", got /,
    );
  });
});

describe('durationValue', () => {
  it('should have no default and reject a string that is not a duration', () => {
    expect(durationValue().safeParse(undefined).success).toBe(false);
    expect(durationValue().safeParse('soon').success).toBe(false);
    expect(durationValue().parse('1m')).toBe(60_000);
  });
});

describe('regex', () => {
  it('should accept a source that compiles and reject one that does not', () => {
    expect(regex('r').parse('^a+$')).toBe('^a+$');
    expect(issues(regex('r').safeParse('('))[0]).toMatch(
      /^expected a valid regular expression, got /,
    );
  });
});

describe('stringMap', () => {
  it('should default to an empty map and reject values that are not strings', () => {
    expect(stringMap('m').parse(undefined)).toEqual({});
    expect(stringMap('m').safeParse({ a: 1 }).success).toBe(false);
  });
});

describe('nameList', () => {
  it('should default to an empty list', () => {
    expect(nameList('n').parse(undefined)).toEqual([]);
  });
});
