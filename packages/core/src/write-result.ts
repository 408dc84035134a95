import type { LcError } from './lc-error.js';

/** The whole batch was delivered. */
export interface WriteSuccess {
  readonly status: 'success';
}

/** Nothing (known) was delivered; trying the same batch again may work. */
export interface WriteRetryable {
  readonly status: 'retryable';
  readonly error: LcError;
  /** The sink's hint (e.g. HTTP `Retry-After`) in milliseconds. */
  readonly retryAfterMs?: number;
}

/** The batch can never be delivered as is (bad data, auth); dead-letter it. */
export interface WriteFailure {
  readonly status: 'failure';
  readonly error: LcError;
}

/** One record of a partially accepted batch that was not delivered. */
export interface RecordFailure {
  /** Index of the record in the batch passed to `write`. */
  readonly index: number;
  /** Whether retrying this record may succeed. */
  readonly retryable: boolean;
  readonly error: LcError;
  /** Hint for retryable records, in milliseconds. */
  readonly retryAfterMs?: number;
}

/**
 * Part of the batch was delivered. Every record whose index is not listed
 * in `failed` was delivered. `failed` is non-empty and sorted by index.
 */
export interface WritePartial {
  readonly status: 'partial';
  readonly failed: readonly RecordFailure[];
}

/**
 * Outcome of one delivery attempt. Sinks resolve one of these for every
 * expected failure; a rejected promise means a bug in the sink.
 */
export type WriteResult =
  WriteSuccess | WriteRetryable | WriteFailure | WritePartial;

const SUCCESS: WriteSuccess = Object.freeze({ status: 'success' });

/** Constructors for {@link WriteResult} values. */
export const WriteResults = {
  success: (): WriteSuccess => SUCCESS,
  retryable: (error: LcError, retryAfterMs?: number): WriteRetryable =>
    retryAfterMs === undefined
      ? { status: 'retryable', error }
      : { status: 'retryable', error, retryAfterMs },
  failure: (error: LcError): WriteFailure => ({ status: 'failure', error }),
  /**
   * A partial result; collapses to `success` when nothing failed and to a
   * whole-batch result when every record failed the same way.
   */
  partial: (
    failed: readonly RecordFailure[],
    batchSize: number,
  ): WriteResult => {
    if (failed.length === 0) return SUCCESS;
    const sorted = [...failed].sort((a, b) => a.index - b.index);
    const first = sorted[0] as RecordFailure;
    if (
      sorted.length === batchSize &&
      sorted.every((f) => f.retryable === first.retryable)
    ) {
      return first.retryable
        ? WriteResults.retryable(first.error, first.retryAfterMs)
        : WriteResults.failure(first.error);
    }
    return { status: 'partial', failed: sorted };
  },
} as const;
