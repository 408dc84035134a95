import { fc, test } from '@fast-check/vitest';
import { formatRfc3339Nano, freezeLabels } from '@lc/core';
import { describe, expect } from 'vitest';
import { formatJsonLine } from './format-record.js';

describe('formatJsonLine', () => {
  test.prop([
    fc.array(
      fc.record({
        timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        timestampNanos: fc.integer({ min: 0, max: 999_999 }),
        line: fc.string(),
        labels: fc.dictionary(
          fc.string({ maxLength: 5 }),
          fc.string({ maxLength: 5 }),
          { maxKeys: 3 },
        ),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  ])(
    'should produce one parseable line equal to the record, whatever was cached before',
    (items) => {
      for (const item of items) {
        const record = {
          ...item,
          labels: freezeLabels(item.labels),
          source: { kind: 'file', id: 'x' },
        };
        const text = formatJsonLine(record);
        expect(text.includes('\n')).toBe(false);
        expect(JSON.parse(text)).toEqual({
          timestamp: formatRfc3339Nano(record),
          line: item.line,
          labels: item.labels,
          source: { kind: 'file', id: 'x' },
        });
      }
    },
  );
});
