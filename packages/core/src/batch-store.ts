import type { LcError } from './lc-error.js';
import type { LogRecord } from './log-record.js';
import type { LifecycleOptions } from './sink.js';

/** A batch as written to a {@link BatchStore} before its first delivery. */
export interface PersistedBatch {
  /** Unique batch id (chosen by the dispatcher). */
  readonly id: string;
  /** The records, in order. Indexes below refer to this array. */
  readonly records: readonly LogRecord[];
  /** Names of the sinks this batch is routed to. */
  readonly sinks: readonly string[];
  /** When the batch was closed, ms since the epoch. */
  readonly createdAtMs: number;
}

/** A batch recovered from a previous run that is not settled yet. */
export interface RecoveredBatch extends PersistedBatch {
  /** Sinks that have neither delivered nor dead-lettered the batch. */
  readonly pendingSinks: readonly string[];
  /** Failed attempts so far, per sink name. */
  readonly attempts: Readonly<Record<string, number>>;
}

/** Admin view of an unsettled batch (HTTP API `/batches`). */
export interface PendingBatchInfo {
  readonly id: string;
  readonly pendingSinks: readonly string[];
  readonly attempts: Readonly<Record<string, number>>;
  readonly records: number;
  readonly bytes: number;
  readonly createdAtMs: number;
  /** Next planned attempt, when known (ms since the epoch). */
  readonly nextAttemptAtMs?: number;
  /** Last failure reason, when any. */
  readonly lastError?: { readonly code: string; readonly message: string };
}

/**
 * Durable write-ahead storage of batches (implemented by
 * `@lc/persistence`, used by the dispatcher). A batch is *held* once
 * `persist` resolves and *settled* when every routed sink either delivered
 * it or dead-lettered it; settled batches are reclaimed. `recover` hands
 * every unsettled batch to the consumer that starts (after a crash, a
 * restart, or a reload that replaced the dispatcher). Every method rejects
 * `LC_ERR_SHUT_DOWN` after `shutdown`.
 */
export interface BatchStore {
  /**
   * Write the batch durably (per the store's fsync policy). Waits — this is
   * the backpressure point — while the store is over its pending budget;
   * never drops.
   */
  persist(batch: PersistedBatch, options?: LifecycleOptions): Promise<void>;
  /** Record that `sink` delivered the batch. */
  markDelivered(batchId: string, sink: string): Promise<void>;
  /** Record a failed attempt of `sink` (for admin views and recovery). */
  markFailed(
    batchId: string,
    sink: string,
    error: LcError,
    attempt: number,
    nextAttemptAtMs?: number,
  ): Promise<void>;
  /**
   * Settle `sink` for this batch by moving records to the dead-letter
   * store: the records at `indexes` (all records when omitted), each with
   * its reason.
   */
  deadLetter(
    batchId: string,
    sink: string,
    error: LcError,
    options?: { indexes?: readonly number[]; attempts?: number },
  ): Promise<void>;
  /**
   * Every batch persisted before the call that is not settled, oldest
   * first, each with the sinks still pending, streamed (never the whole
   * backlog in memory): those of previous runs and those a previous
   * consumer of this store persisted (a dispatcher a config reload
   * replaced). Each call hands over all of them again, so call it when a
   * consumer starts, once no other consumer is delivering from the store.
   */
  recover(): AsyncIterable<RecoveredBatch>;
  /** Unsettled batches right now. */
  pending(): readonly PendingBatchInfo[];
  /** Make everything recorded so far durable. */
  flush(options?: LifecycleOptions): Promise<void>;
  /** Flush, then release files. Idempotent. */
  shutdown(options?: LifecycleOptions): Promise<void>;
}
