import { fc, test } from '@fast-check/vitest';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describe, expect } from 'vitest';
import { formatJsonLine, formatTextLine } from './format-record.js';
import { createLineEncoder } from './line-encoder.js';

// Shared label and source objects, as real sources hand them out: the
// encoder caches their bytes per object, so records of several sources
// interleave in one batch.
const labelSets = [
  freezeLabels({ job: 'a' }),
  freezeLabels({ job: 'b', filename: '/var/log/ü "x".log' }),
  freezeLabels({}),
];
const sources = [
  Object.freeze({ kind: 'file', id: '1:2' }),
  Object.freeze({ kind: 'docker', id: 'c"\\id' }),
];

const record = fc.record(
  {
    line: fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('plain line', 'tab\there', 'quote " and \\', '\ud800x'),
    ),
    timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    timestampNanos: fc.integer({ min: 0, max: 999_999 }),
    labels: fc.constantFrom(...labelSets),
    source: fc.constantFrom(...sources),
    metadata: fc.option(
      fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 6 })),
      { nil: undefined },
    ),
  },
  {
    requiredKeys: ['line', 'timestampMs', 'timestampNanos', 'labels', 'source'],
  },
) as fc.Arbitrary<LogRecord>;

const joined = (
  records: readonly LogRecord[],
  format: (r: LogRecord) => string,
  indexes?: readonly number[],
): Buffer =>
  Buffer.from(
    (indexes ?? records.map((_, i) => i))
      .map((i) => `${format(records[i] as LogRecord)}\n`)
      .join(''),
    'utf8',
  );

describe('createLineEncoder', () => {
  describe('json', () => {
    test.prop([fc.array(record, { maxLength: 40 })])(
      'should encode exactly what formatJsonLine gives, one line per record',
      (records) => {
        const encode = createLineEncoder('json');
        expect(encode(records).equals(joined(records, formatJsonLine))).toBe(
          true,
        );
      },
    );

    test.prop([
      fc.array(record, { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 20 }),
    ])(
      'should encode only the records at `indexes`, in their order',
      (records, picks) => {
        const indexes = picks.map((p) => p % records.length);
        const encode = createLineEncoder('json');
        expect(
          encode(records, indexes).equals(
            joined(records, formatJsonLine, indexes),
          ),
        ).toBe(true);
      },
    );

    test.prop([fc.integer({ min: 1, max: 20_000 })])(
      'should grow past its first estimate for long lines',
      (length) => {
        const records = [
          {
            line: '\u0001'.repeat(length),
            labels: labelSets[0],
            source: sources[0],
            timestampMs: 0,
            timestampNanos: 0,
          } as LogRecord,
        ];
        expect(
          createLineEncoder('json')(records).equals(
            joined(records, formatJsonLine),
          ),
        ).toBe(true);
      },
    );
  });

  describe('text', () => {
    test.prop([fc.array(record, { maxLength: 40 })])(
      'should encode exactly what formatTextLine gives, one line per record',
      (records) => {
        expect(
          createLineEncoder('text')(records).equals(
            joined(records, formatTextLine),
          ),
        ).toBe(true);
      },
    );
  });
});
