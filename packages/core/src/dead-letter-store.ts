import type { LogRecord } from './log-record.js';
import type { LifecycleOptions, Sink } from './sink.js';

/** Why a record was dead-lettered. */
export interface DeadLetterReason {
  /** `LC_ERR_*` code. */
  readonly code: string;
  readonly message: string;
  /** HTTP status or broker error code, when the sink had one. */
  readonly status?: number | string;
}

/** A record that failed permanently, with its history. */
export interface DeadLetterEntry {
  /** Unique id within the store. */
  readonly id: string;
  readonly record: LogRecord;
  /** The sink that could not take it. */
  readonly sink: string;
  readonly reason: DeadLetterReason;
  readonly attempts: number;
  readonly firstFailureAtMs: number;
  readonly lastFailureAtMs: number;
}

/** Selects dead-letter entries; every given field must match. */
export interface DeadLetterFilter {
  readonly sink?: string;
  /** Match `reason.code`. */
  readonly code?: string;
  /** `lastFailureAtMs >= sinceMs`. */
  readonly sinceMs?: number;
  /** `lastFailureAtMs < untilMs`. */
  readonly untilMs?: number;
}

/** Options for {@link DeadLetterStore.replay}. */
export interface DeadLetterReplayOptions extends LifecycleOptions {
  /** Where to send the records. */
  readonly sink: Sink;
  readonly filter?: DeadLetterFilter;
  /** Records per write. @default 500 */
  readonly batchSize?: number;
  /** Called after each write with the running totals. */
  readonly onProgress?: (progress: {
    done: number;
    total: number;
    failed: number;
  }) => void;
}

/**
 * A replayable store of records that failed permanently (implemented by
 * `@lc/persistence`). Nothing enters it silently: every add is counted and
 * logged by the implementation.
 */
export interface DeadLetterStore {
  /** Add entries durably. */
  add(entries: readonly Omit<DeadLetterEntry, 'id'>[]): Promise<void>;
  /** Entries matching `filter`, oldest first, at most `limit` (default 100). */
  list(
    filter?: DeadLetterFilter & { limit?: number; offset?: number },
  ): Promise<DeadLetterEntry[]>;
  /** How many entries match `filter`. */
  count(filter?: DeadLetterFilter): Promise<number>;
  /**
   * Send matching entries to `sink`; entries delivered are removed, the
   * rest stay with their attempt count raised.
   */
  replay(
    options: DeadLetterReplayOptions,
  ): Promise<{ replayed: number; failed: number }>;
  /** Remove matching entries; resolves how many were removed. */
  purge(filter?: DeadLetterFilter): Promise<number>;
  /** Release files. Idempotent. */
  close(options?: LifecycleOptions): Promise<void>;
}
