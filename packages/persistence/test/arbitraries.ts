import { fc } from '@fast-check/vitest';
import type { JsonValue, LogRecord } from '@lc/core';

/** Any string of valid Unicode code points (no lone surrogates). */
export const unicodeString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', maxLength });

const stringMap = fc.dictionary(unicodeString(12), unicodeString(20), {
  maxKeys: 5,
  noNullPrototype: true,
});

/** JSON values like cursors: nested, with safe and unsafe numbers. */
export const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.nat(),
    fc.maxSafeNat(),
    unicodeString(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(unicodeString(8), tie('value'), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
})).value as fc.Arbitrary<JsonValue>;

/** A file-like cursor or any JSON value. */
export const cursor: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.record(
    { offset: fc.maxSafeNat(), line: fc.nat() },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      timestampNs: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String),
      lineHash: fc.string(),
      linesAtTimestamp: fc.nat(),
    },
    { noNullPrototype: true },
  ),
  jsonValue,
);

/** Arbitrary records; labels are drawn from a small pool so they repeat. */
export const logRecords = (maxLength = 30): fc.Arbitrary<LogRecord[]> =>
  fc
    .tuple(
      fc.array(
        stringMap.map((m) => Object.freeze(m)),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
      fc.array(
        fc.record(
          {
            timestampMs: fc.integer({ min: 0, max: 8_640_000_000_000 }),
            timestampNanos: fc.integer({ min: 0, max: 999_999 }),
            line: unicodeString(200),
            labelIndex: fc.nat(),
            metadata: stringMap,
            source: fc.record(
              {
                kind: fc.constantFrom('file', 'container', 'http', 'custom'),
                id: unicodeString(20),
              },
              { noNullPrototype: true },
            ),
            cursor,
          },
          {
            requiredKeys: [
              'timestampMs',
              'timestampNanos',
              'line',
              'labelIndex',
              'source',
            ],
            noNullPrototype: true,
          },
        ),
        { maxLength },
      ),
    )
    .map(([pool, raws]) =>
      raws.map((raw) => {
        const { labelIndex, ...rest } = raw;
        const labels = pool[labelIndex % pool.length] as LogRecord['labels'];
        return { ...rest, labels } as LogRecord;
      }),
    );
