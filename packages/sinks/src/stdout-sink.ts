import { LcError, once, shutDownResult, WriteResults } from '@lc/core';
import type { Sink } from '@lc/core';
import { lineFormatter } from './internal/format-record.js';
import type { LineFormat } from './internal/format-record.js';
import { invalidOption } from './internal/validate.js';

/** Options of {@link createStdoutSink}. */
export interface StdoutSinkOptions {
  /** Sink name. @default 'stdout' */
  name?: string;
  /** `json` (JSON Lines) or `text` (the line only). @default 'json' */
  format?: 'json' | 'text';
  /** Where to write. @default process.stdout */
  stream?: NodeJS.WritableStream;
}

/**
 * A sink that writes one line per record to stdout (or another stream),
 * for debugging and containers. `write` resolves after the stream took the
 * data, waiting for `drain` when it pushes back; a stream error resolves
 * `retryable` `LC_ERR_SINK_WRITE`. The stream is never closed. After
 * `shutdown`, `write` resolves `failure` `LC_ERR_SHUT_DOWN`.
 */
export function createStdoutSink(options: StdoutSinkOptions = {}): Sink {
  const name = options.name ?? 'stdout';
  const format: LineFormat = options.format ?? 'json';
  if (format !== 'json' && format !== 'text')
    invalidOption('createStdoutSink', 'format', "'json' or 'text'", format);
  const stream = options.stream ?? process.stdout;
  const formatLine = lineFormatter(format);
  let closed = false;

  const push = (
    data: string,
    signal: AbortSignal,
  ): Promise<LcError | undefined> =>
    new Promise((resolve) => {
      let done = false;
      const finish = (error?: LcError): void => {
        if (done) return;
        done = true;
        stream.off('drain', onDrain);
        stream.off('error', onError);
        signal.removeEventListener('abort', onAbort);
        resolve(error);
      };
      const onDrain = (): void => finish();
      const onError = (error: Error): void =>
        finish(
          new LcError({
            code: 'LC_ERR_SINK_WRITE',
            message: `sink "${name}": ${error.message}`,
            cause: error,
          }),
        );
      const onAbort = (): void =>
        finish(
          new LcError({
            code: 'LC_ERR_ABORTED',
            message: `sink "${name}": write aborted while the stream was full`,
          }),
        );
      stream.on('error', onError);
      signal.addEventListener('abort', onAbort, { once: true });
      const ok = stream.write(data, (error) => {
        if (error !== undefined && error !== null) onError(error);
        else if (ok) finish();
      });
      if (!ok) stream.once('drain', onDrain);
    });

  return {
    name,
    async write(batch, { signal }) {
      if (closed) return shutDownResult(name);
      if (batch.length === 0) return WriteResults.success();
      if (signal.aborted)
        return WriteResults.retryable(
          new LcError({
            code: 'LC_ERR_ABORTED',
            message: `sink "${name}": write aborted`,
          }),
        );
      let text = '';
      for (const record of batch) text += `${formatLine(record)}\n`;
      const error = await push(text, signal);
      return error === undefined
        ? WriteResults.success()
        : WriteResults.retryable(error);
    },
    async flush() {},
    shutdown: once(async () => {
      closed = true;
    }),
  };
}
