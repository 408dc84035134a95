import type { Intake, LifecycleOptions } from '@lc/core';
import type { CircuitState } from './internal/circuit-breaker.js';

/** Per-sink counters in {@link DispatcherStats}. */
export interface SinkStats {
  readonly name: string;
  /** Writes in progress. */
  readonly inflight: number;
  /** Deliveries waiting for a worker (new and due retries). */
  readonly queued: number;
  readonly circuit: CircuitState;
  /**
   * `down` while its circuit is open or half-open (it failed
   * `circuit.failureThreshold` times in a row; deliveries to it wait, or go
   * to its fallback), else `up`.
   */
  readonly state: 'up' | 'down';
  /** The sink its deliveries go to after a long outage (`sinkOptions.fallback`). */
  readonly fallback: string | undefined;
  /**
   * Batches this sink has not settled yet: waiting, in flight, waiting to
   * retry or being dead-lettered (the sink's backlog, in memory or the WAL;
   * records in the spill are not routed yet and are not counted here).
   */
  readonly unsettledBatches: number;
  /** Records in those batches still owed to this sink. */
  readonly unsettledRecords: number;
  /** How long the oldest of them has waited, ms (0 when there are none). */
  readonly oldestUnsettledAgeMs: number;
  /** Records delivered to this sink (or its fallback on its behalf). */
  readonly delivered: number;
  /** Records dead-lettered for this sink. */
  readonly deadLettered: number;
  /** The last failed delivery's error and when (ms since the epoch); none yet: undefined. */
  readonly lastError:
    | { readonly code: string; readonly message: string; readonly atMs: number }
    | undefined;
}

/** A snapshot of the dispatcher's state. */
export interface DispatcherStats {
  /** Records accepted and not settled yet. */
  readonly queuedRecords: number;
  /** Estimated bytes of those records. */
  readonly queuedBytes: number;
  /** Whether `dispatch` would return true now. */
  readonly writable: boolean;
  /** Batches not settled for every sink yet. */
  readonly liveBatches: number;
  /** Deliveries waiting for their next attempt. */
  readonly retryQueueSize: number;
  /** Retries scheduled since start. */
  readonly retries: number;
  /** Records not delivered on purpose, by reason (`drop_newest`, `duplicate`, …). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Total time the intake refused records, ms. */
  readonly backpressureMs: number;
  /** Records recovered from the batch store at start. */
  readonly recoveredRecords: number;
  /** Records in the spill now (0 without `spill`). */
  readonly spilledRecords: number;
  /** Their estimated bytes. */
  readonly spilledBytes: number;
  /** Records spilled since start. */
  readonly spilledTotal: number;
  /**
   * When the oldest record in the spill entered it, ms since the epoch
   * (`undefined` when the spill is empty or off).
   */
  readonly spilledOldestAtMs: number | undefined;
  readonly sinks: readonly SinkStats[];
  /** Each route (and the default one) and whether its records reach a sink. */
  readonly routes: readonly RouteStats[];
}

/**
 * Whether the records of one route reach their sinks (see
 * {@link SinkStats.state} for when a sink is down).
 */
export interface RouteStats {
  /** Index in `routes`, or `default` for records no route matches (`defaultSinks`). */
  readonly route: number | 'default';
  /** The sinks the route's records go to. */
  readonly sinks: readonly string[];
  /**
   * `up`: every sink takes records. `degraded`: some sink is down (what it
   * is owed waits, in memory or on disk, or goes to its fallback) while the
   * records still reach a sink. `down`: every sink is down and no fallback
   * takes their records: none of the route's records is delivered anywhere
   * until one recovers.
   */
  readonly state: 'up' | 'degraded' | 'down';
  /** The route's sinks that are down, by name. */
  readonly downSinks: readonly string[];
}

/**
 * What {@link Dispatcher.shutdown} left behind: how it ended and where each
 * unsettled record is (`persistedRecords + spilledRecords + inMemoryRecords
 * = unsettledRecords`).
 */
export interface DispatcherShutdown {
  /**
   * `drained`: everything was settled. `held`: what is left is on disk (the
   * batch store, the spill) and waits only for sinks that are down; the next
   * start delivers it. `timed out`: `shutdownTimeoutMs` passed with records
   * in memory or in flight.
   */
  readonly outcome: 'drained' | 'held' | 'timed out';
  /** Records accepted and not settled when it stopped waiting. */
  readonly unsettledRecords: number;
  /** Of those, records in batches kept in the batch store: delivered after the next start. */
  readonly persistedRecords: number;
  /**
   * Of those, records in the spill: delivered after the next start (a
   * non-durable spill: read again from their sources).
   */
  readonly spilledRecords: number;
  /**
   * Of those, records held only in memory. Their positions were not
   * committed, so their sources read them again after a restart.
   */
  readonly inMemoryRecords: number;
  /**
   * Of the in-memory ones, records no source can read again (no cursor:
   * HTTP ingest, `dispatch` without one): lost, and counted as
   * `shutdown_timeout` drops.
   */
  readonly lostRecords: number;
  /** Sinks that had not settled a batch, by name. */
  readonly sinks: readonly string[];
}

/**
 * Batches records, fans them out to sinks with retries, circuit breaking,
 * fallback and dead-lettering, and commits each source's settled watermark.
 * After `shutdown`, `dispatch` returns false without accepting and
 * `whenWritable` rejects `LC_ERR_SHUT_DOWN`.
 */
export interface Dispatcher extends Intake {
  /**
   * Recover unsettled batches from the batch store (resolves once they are
   * all queued, waiting for room if the backlog exceeds the budget), then
   * run. Idempotent. `dispatch` works before `start` too.
   */
  start(): Promise<void>;
  /**
   * Close open batches and wait until everything accepted before the call
   * is settled (delivered or dead-lettered), then flush the sinks and the
   * batch store. With a sink down this waits for it: pass `signal` to stop
   * waiting.
   */
  flush(options?: LifecycleOptions): Promise<void>;
  /**
   * Stop intake, deliver what is held for at most `shutdownTimeoutMs`, then
   * abort what is left (it stays in the batch store when there is one, and
   * is never committed), commit the final watermark and shut the sinks
   * down. Idempotent: later calls resolve the first call's result. It does
   * not log the outcome: the caller reports it (one line, its own words).
   */
  shutdown(): Promise<DispatcherShutdown>;
  stats(): DispatcherStats;
}
