import { LcError, toLcError } from './lc-error.js';
import { once } from './lifecycle.js';
import type { LogRecord } from './log-record.js';
import type { LifecycleOptions, Sink, WriteOptions } from './sink.js';
import { WriteResults } from './write-result.js';
import type { WriteResult } from './write-result.js';

/** What a custom sink provides to {@link defineSink}. */
export interface SinkDefinition {
  /** Stable name, unique per pipeline. */
  name: string;
  /**
   * Deliver the batch. Return a {@link WriteResult}, or nothing for
   * success. A thrown error becomes `retryable` (`LC_ERR_SINK_WRITE`), or
   * the thrown `LcError` itself if it is one, so a ten-line sink is still
   * classified safely.
   */
  write(
    batch: readonly LogRecord[],
    options: WriteOptions,
  ): Promise<WriteResult | void> | WriteResult | void;
  /** Optional flush hook. */
  flush?(options?: LifecycleOptions): Promise<void> | void;
  /** Optional release hook, called once. */
  shutdown?(options?: LifecycleOptions): Promise<void> | void;
}

/**
 * Build a {@link Sink} from plain functions: lifecycle, idempotent
 * shutdown, `LC_ERR_SHUT_DOWN` after shutdown, and result wrapping are
 * supplied.
 *
 * @example
 * const sink = defineSink({
 *   name: 'console',
 *   write(batch) { for (const r of batch) console.log(r.line); },
 * });
 */
export function defineSink(definition: SinkDefinition): Sink {
  if (typeof definition.name !== 'string' || definition.name === '') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `defineSink: name must be a non-empty string, got ${JSON.stringify(definition.name)}`,
    });
  }
  let closed = false;
  const shutdown = once(async (options?: LifecycleOptions) => {
    closed = true;
    await definition.flush?.(options);
    await definition.shutdown?.(options);
  });
  return {
    name: definition.name,
    async write(batch, options) {
      if (closed) return shutDownResult(definition.name);
      if (batch.length === 0) return WriteResults.success();
      try {
        const result = await definition.write(batch, options);
        return result ?? WriteResults.success();
      } catch (error) {
        return WriteResults.retryable(
          toLcError(error, 'LC_ERR_SINK_WRITE', `sink "${definition.name}"`),
        );
      }
    },
    async flush(options) {
      await definition.flush?.(options);
    },
    shutdown,
  };
}

/** The result every sink returns for writes after shutdown. */
export function shutDownResult(sinkName: string): WriteResult {
  return WriteResults.failure(
    new LcError({
      code: 'LC_ERR_SHUT_DOWN',
      message: `sink "${sinkName}" is shut down`,
      details: { sink: sinkName },
    }),
  );
}
