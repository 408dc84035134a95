import { appendFile } from 'node:fs/promises';
import { defineSink } from '@lc/core';
import type { Sink } from '@lc/core';

/**
 * Appends each line to `path`. A thrown error becomes a `retryable`
 * result (`LC_ERR_SINK_WRITE`) through `defineSink`, so the dispatcher
 * retries it; shutdown and the empty batch are handled by `defineSink`.
 */
export function createAppendSink(path: string, name = 'append'): Sink {
  return defineSink({
    name,
    async write(batch) {
      await appendFile(path, batch.map((r) => `${r.line}\n`).join(''));
    },
  });
}
