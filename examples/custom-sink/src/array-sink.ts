import { defineSink, LcError, WriteResults } from '@lc/core';
import type { LogRecord, Sink } from '@lc/core';

/** A sink that keeps lines in an array, refusing lines over `maxLineLength`. */
export function createArraySink(lines: string[], maxLineLength = 1000): Sink {
  return defineSink({
    name: 'array',
    write(batch: readonly LogRecord[]) {
      const failed = batch.flatMap((record, index) => {
        if (record.line.length <= maxLineLength)
          return (lines.push(record.line), []);
        const error = new LcError({
          code: 'LC_ERR_RECORD_TOO_LARGE',
          message: `line ${index} too long`,
        });
        return [{ index, retryable: false, error }];
      });
      return WriteResults.partial(failed, batch.length);
    },
  });
}
