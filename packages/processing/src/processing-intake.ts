import type { Intake, LogRecord } from '@lc/core';
import type { Processor } from './create-processor.js';

/**
 * An {@link Intake} that runs every record through `processor` before
 * handing it to `next`. Dropped records never reach the dispatcher; their
 * cursors are passed by the next record of the same source, and a source
 * that ends on dropped lines re-reads and re-drops them after a restart
 * (processing is deterministic, so nothing extra is delivered).
 */
export function createProcessingIntake(
  next: Intake,
  processor: Processor,
): Intake {
  return {
    dispatch(record: LogRecord): boolean {
      const out = processor.process(record);
      return out === undefined ? true : next.dispatch(out);
    },
    dispatchMany(records: readonly LogRecord[]): boolean {
      const out = processor.processMany(records);
      return out.length === 0 ? true : next.dispatchMany(out);
    },
    whenWritable: (options) => next.whenWritable(options),
  };
}
