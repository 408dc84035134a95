import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LcError } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { decodeRecords, encodeRecords } from './record-codec.js';
import { jsonValue, logRecords } from '../test/arbitraries.js';

const base: LogRecord = {
  timestampMs: 1_700_000_000_123,
  timestampNanos: 456_789,
  line: 'hello',
  labels: Object.freeze({ app: 'a' }),
  source: { kind: 'file', id: '1:2' },
};

describe('encodeRecords', () => {
  describe('round trip', () => {
    test.prop([logRecords()])(
      'should decode exactly what was encoded',
      (records) => {
        expect(decodeRecords(encodeRecords(records))).toStrictEqual(records);
      },
    );

    test.prop([jsonValue])('should round-trip any JSON cursor', (value) => {
      const [decoded] = decodeRecords(
        encodeRecords([{ ...base, cursor: value }]),
      );
      expect(decoded?.cursor).toStrictEqual(value);
    });

    it('should keep nanoseconds, -0 and unsafe integers in cursors', () => {
      const record: LogRecord = {
        ...base,
        timestampNanos: 999_999,
        cursor: { a: -0, b: 2 ** 60, c: -1.5, d: [1, 'x', null, true] },
      };
      const [decoded] = decodeRecords(encodeRecords([record]));
      expect(decoded?.timestampNanos).toBe(999_999);
      expect(Object.is((decoded?.cursor as { a: number }).a, -0)).toBe(true);
      expect(decoded).toStrictEqual(record);
    });

    it('should keep a "__proto__" label as an own property', () => {
      const labels = JSON.parse('{"__proto__":"x","a":"b"}') as Record<
        string,
        string
      >;
      const [decoded] = decodeRecords(encodeRecords([{ ...base, labels }]));
      expect(Object.keys(decoded?.labels ?? {})).toEqual(['__proto__', 'a']);
      expect(Object.getPrototypeOf(decoded?.labels)).toBe(Object.prototype);
    });

    it('should share one frozen label object between records that shared one', () => {
      const labels = Object.freeze({ app: 'x' });
      const out = decodeRecords(
        encodeRecords([
          { ...base, labels },
          { ...base, labels, line: 'two' },
        ]),
      );
      expect(out[0]?.labels).toBe(out[1]?.labels);
      expect(Object.isFrozen(out[0]?.labels)).toBe(true);
    });

    it('should round-trip long unicode lines', () => {
      const line = '日本語🙂'.repeat(10_000);
      const [decoded] = decodeRecords(encodeRecords([{ ...base, line }]));
      expect(decoded?.line).toBe(line);
    });

    it('should encode an empty batch', () => {
      expect(decodeRecords(encodeRecords([]))).toEqual([]);
    });
  });
});

describe('decodeRecords', () => {
  test.prop([logRecords(5).filter((r) => r.length > 0), fc.nat()])(
    'should throw LC_ERR_BUFFER_CORRUPT on a truncated buffer',
    (records, cut) => {
      const buf = encodeRecords(records);
      const truncated = buf.subarray(0, cut % buf.length);
      expect(() => decodeRecords(truncated)).toThrow(
        expect.objectContaining({ code: 'LC_ERR_BUFFER_CORRUPT' }),
      );
    },
  );

  it('should reject an unknown format version', () => {
    const buf = Buffer.from(encodeRecords([base]));
    buf[0] = 99;
    try {
      decodeRecords(buf);
      expect.unreachable();
    } catch (error) {
      expect(LcError.isInstance(error, 'LC_ERR_BUFFER_CORRUPT')).toBe(true);
    }
  });

  it('should reject trailing bytes', () => {
    const buf = Buffer.concat([encodeRecords([base]), Buffer.from([0])]);
    expect(() => decodeRecords(buf)).toThrow(/trailing/);
  });
});
