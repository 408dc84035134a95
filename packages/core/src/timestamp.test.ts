import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  compareTimestamps,
  formatRfc3339Nano,
  formatTimestampNs,
  parseRfc3339Nano,
  parseTimestampNs,
  toSecondsNanos,
} from './timestamp.js';

const timestampArb = fc.record({
  timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  timestampNanos: fc.integer({ min: 0, max: 999_999 }),
});

describe('parseRfc3339Nano', () => {
  it('should keep all nine fractional digits from a Docker timestamp', () => {
    const ts = parseRfc3339Nano('2026-11-23T17:13:37.123456789Z');
    expect(ts.timestampMs).toBe(Date.UTC(2026, 10, 23, 17, 13, 37, 123));
    expect(ts.timestampNanos).toBe(456_789);
    expect(formatTimestampNs(ts)).toBe(
      `${Date.UTC(2026, 10, 23, 17, 13, 37) / 1000}123456789`,
    );
  });

  it('should apply numeric zone offsets and short fractions', () => {
    const ts = parseRfc3339Nano('2026-11-23T19:13:37.5+02:00');
    expect(ts).toEqual({
      timestampMs: Date.UTC(2026, 10, 23, 17, 13, 37, 500),
      timestampNanos: 0,
    });
  });

  it('should reject malformed input naming it', () => {
    expect(() => parseRfc3339Nano('yesterday')).toThrow(/"yesterday"/);
  });

  test.prop([timestampArb])(
    'should round-trip through formatRfc3339Nano',
    (ts) => {
      expect(parseRfc3339Nano(formatRfc3339Nano(ts))).toEqual(ts);
    },
  );
});

describe('formatTimestampNs', () => {
  test.prop([timestampArb])(
    'should round-trip through parseTimestampNs',
    (ts) => {
      expect(parseTimestampNs(formatTimestampNs(ts))).toEqual(ts);
    },
  );

  test.prop([timestampArb])('should equal the bigint computation', (ts) => {
    const expected =
      BigInt(ts.timestampMs) * 1_000_000n + BigInt(ts.timestampNanos);
    expect(formatTimestampNs(ts)).toBe(expected.toString());
  });

  test.prop([timestampArb, timestampArb])(
    'should order like compareTimestamps',
    (a, b) => {
      const ba = BigInt(formatTimestampNs(a));
      const bb = BigInt(formatTimestampNs(b));
      expect(Math.sign(compareTimestamps(a, b))).toBe(
        ba < bb ? -1 : ba > bb ? 1 : 0,
      );
    },
  );
});

describe('toSecondsNanos', () => {
  test.prop([timestampArb])(
    'should split into seconds and nanos of the second',
    (ts) => {
      const { seconds, nanos } = toSecondsNanos(ts);
      expect(nanos).toBeGreaterThanOrEqual(0);
      expect(nanos).toBeLessThan(1_000_000_000);
      expect(BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toBe(
        BigInt(formatTimestampNs(ts)),
      );
    },
  );
});
