import type { LcError, LogRecord, Sink } from '@lc/core';
import type { AckItem } from './ack-tracker.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { SinkMetrics } from './dispatcher-metrics.js';

/** One sink with its queue, workers and circuit. */
export interface Lane {
  readonly sink: Sink;
  readonly name: string;
  readonly ordered: boolean;
  readonly workers: number;
  readonly fallback: Lane | undefined;
  readonly fallbackAfterMs: number;
  readonly circuit: CircuitBreaker;
  readonly metrics: SinkMetrics;
  /** Retries that are due, served before `queue`. */
  ready: Delivery[];
  /** Deliveries waiting for a worker, oldest first; taken slots are cleared. */
  queue: Array<Delivery | undefined>;
  queueHead: number;
  inflight: number;
  /** Stream key → the started, unsettled delivery holding it (ordered lanes). */
  readonly locked: Map<string, Delivery>;
  delivered: number;
  deadLettered: number;
  /** The last failed delivery's error, and when (ms since the epoch). */
  lastError:
    | { readonly code: string; readonly message: string; readonly atMs: number }
    | undefined;
  /** Failure warnings: when the last was logged, and how many were held back since. */
  readonly failureLog: { atMs: number; suppressed: number };
  /** Diversions to the fallback: when the last was logged, and records held back since. */
  readonly divertLog: { atMs: number; suppressed: number };
  /** Drops for want of a dead-letter store: when the last was logged, and records held back since. */
  readonly dropLog: { atMs: number; suppressed: number };
}

/** A closed batch, shared by every sink it is routed to. */
export interface Batch {
  readonly id: string;
  readonly seq: number;
  readonly records: readonly LogRecord[];
  readonly acks: readonly AckItem[];
  readonly lanes: readonly Lane[];
  readonly createdAtMs: number;
  /** Monotonic ms when its oldest record was accepted. */
  readonly firstAcceptedMs: number;
  /** Persisted in the batch store (WAL marks apply). */
  durable: boolean;
  /** Deliveries not finalized yet. */
  lanesLeft: number;
  /** Deliveries currently being written. */
  inflight: number;
  /** Recovered from the WAL: acks never commit. */
  readonly recovered: boolean;
  /** One per lane, filled when the batch is handed to the lanes. */
  readonly deliveries: Delivery[];
}

/** One batch (or the failed part of it) on its way to one sink. */
export interface Delivery {
  readonly batch: Batch;
  /** The sink the batch is routed to (WAL marks, DLQ entries). */
  readonly lane: Lane;
  /** Where it is sent now: `lane`, or its fallback. */
  target: Lane;
  /** Batch indexes still to deliver; `undefined` = all. */
  indexes: number[] | undefined;
  /** The records sent: the batch's array or a subset, maybe relabelled. */
  records: readonly LogRecord[];
  attempts: number;
  firstFailureAtMs: number;
  nextAttemptAtMs: number;
  lastError: LcError | undefined;
  /** Batch indexes to dead-letter when finalized, with their errors. */
  readonly dlqIndexes: number[];
  readonly dlqErrors: LcError[];
  /** Stream keys (ordered lanes), computed once. */
  streams: readonly string[] | undefined;
  locked: boolean;
  state: 'waiting' | 'inflight' | 'retry' | 'dead-letter' | 'done';
  /** In the retry heap (valid entries carry this token). */
  inRetryQueue: boolean;
  retryToken: number;
}
