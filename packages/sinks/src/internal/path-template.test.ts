import { fc, test } from '@fast-check/vitest';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { compilePathTemplate } from './path-template.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 23, 23, 59, 59, 999);

function rec(
  labels: LogRecord['labels'],
  id: string,
  ms: number,
  kind = 'file',
): LogRecord {
  return {
    line: 'x',
    labels,
    timestampMs: ms,
    timestampNanos: 0,
    source: { kind, id },
  } as LogRecord;
}

describe('compilePathTemplate', () => {
  it('should re-render a shared labels object when the hour or the source changes', () => {
    const pathOf = compilePathTemplate('/out', '{date}/{hour}/{source}.log');
    const labels = freezeLabels({ job: 'a' });
    expect(pathOf(rec(labels, 'one', T0))).toBe('/out/2026-11-23/23/one.log');
    expect(pathOf(rec(labels, 'one', T0 + 1))).toBe(
      '/out/2026-11-24/00/one.log',
    );
    expect(pathOf(rec(labels, 'two', T0 + 1))).toBe(
      '/out/2026-11-24/00/two.log',
    );
    expect(pathOf(rec(labels, 'two', T0 + 1, 'container'))).toBe(
      '/out/2026-11-24/00/two.log',
    );
  });

  // The memo per labels object must never change what a path renders to.
  test.prop(
    [
      fc.array(
        fc.record({
          labelsIndex: fc.nat(3),
          id: fc.constantFrom('a', 'b', 'c/d', '..'),
          kind: fc.constantFrom('file', 'container'),
          ms: fc.integer({ min: T0 - 3 * H, max: T0 + 3 * H }),
        }),
        { maxLength: 60 },
      ),
      fc.constantFrom(
        '{source}.log',
        '{date}/{hour}/{source_kind}-{label:job}.log',
        '{label:job}/{file_name}-{hour}.log',
      ),
    ],
    { numRuns: 200 },
  )('should render what a fresh template renders', (steps, template) => {
    const pool = [
      freezeLabels({ job: 'a', filename: '/var/log/app.log' }),
      freezeLabels({ job: 'b' }),
      freezeLabels({}),
      freezeLabels({ job: 'a', filename: '/var/log/app.log' }),
    ];
    const memoised = compilePathTemplate('/out', template);
    for (const s of steps) {
      const r = rec(pool[s.labelsIndex]!, s.id, s.ms, s.kind);
      expect(memoised(r)).toBe(compilePathTemplate('/out', template)(r));
    }
  });
});
