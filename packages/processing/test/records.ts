// Test helpers: records and processors with a fixed clock.
import type { LogRecord } from '@lc/core';
import { freezeLabels } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import { createProcessor } from '../src/create-processor.js';
import type { Processor } from '../src/create-processor.js';

/** The fixed "now" of {@link processor}. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

/** A file record read at {@link NOW}. */
export function record(
  line: string,
  labels: Record<string, string> = {},
  kind = 'file',
): LogRecord {
  return {
    line,
    labels: freezeLabels({ ...labels }),
    source: { kind, id: 'src-1' },
    cursor: { offset: 10, line: 1 },
    timestampMs: NOW,
    timestampNanos: 0,
  };
}

/** One pipeline named "p" of `steps`, on a clock stopped at {@link NOW}. */
export function processor(
  steps: unknown[],
  extra: Partial<Record<string, unknown>> = {},
): Processor {
  return createProcessor({
    pipelines: [{ name: 'p', steps, ...extra } as never],
    clock: createFakeClock(NOW),
  });
}
