import type { LogRecord } from './log-record.js';
import type { WriteResult } from './write-result.js';

/** Options for one {@link Sink.write} call. */
export interface WriteOptions {
  /**
   * Aborted when the dispatcher gives up on this attempt (timeout or
   * shutdown). The sink must stop as soon as it can and resolve
   * `retryable` with `LC_ERR_ABORTED` or `LC_ERR_TIMEOUT`.
   */
  readonly signal: AbortSignal;
}

/** Options for `flush` and `shutdown`. */
export interface LifecycleOptions {
  /** Abort to stop waiting; the operation resolves as soon as it can. */
  readonly signal?: AbortSignal;
}

/**
 * A destination for log records. Sinks deliver: they never batch, queue or
 * retry (the dispatcher does). Every expected failure is a resolved
 * {@link WriteResult}; `write` rejects only on bugs.
 */
export interface Sink {
  /** Stable name, unique per pipeline; used in metric labels and errors. */
  readonly name: string;
  /**
   * Deliver one batch and report what happened. Called concurrently only if
   * the sink's owner allows it; the batch is never mutated by the sink.
   * After `shutdown` resolves `failure` with `LC_ERR_SHUT_DOWN`.
   */
  write(
    batch: readonly LogRecord[],
    options: WriteOptions,
  ): Promise<WriteResult>;
  /** Make everything already acknowledged by `write` durable (e.g. fsync). */
  flush(options?: LifecycleOptions): Promise<void>;
  /** Flush, then release connections and handles. Idempotent. */
  shutdown(options?: LifecycleOptions): Promise<void>;
}
