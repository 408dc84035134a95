import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { getOrCreateMetric } from '@lc/core';
import type { MetricsRegistry } from '@lc/core';

const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** Metrics of the position manager. */
export interface ManagerMetrics {
  readonly positions: Gauge<'kind'>;
  readonly flushDuration: Histogram;
  readonly flushes: Counter<'result'>;
  readonly cleanupDuration: Histogram;
  readonly updates: Counter<'op'>;
  readonly errors: Counter<'type'>;
  readonly resets: Counter<'reason'>;
  readonly evictions: Counter<'cause'>;
}

/** Metrics of the durable stores. */
export interface StoreMetrics {
  readonly corruption: Counter<'store'>;
  readonly recoveries: Counter<'store' | 'strategy'>;
  readonly backups: Counter<'store'>;
  readonly errors: Counter<'store' | 'type'>;
  readonly journalRecoveries: Counter<'store'>;
  readonly journalDroppedBytes: Counter<'store'>;
  readonly compactions: Counter<'store'>;
}

/** Register (or reuse) the manager's metrics on `registry`. */
export function managerMetrics(registry?: MetricsRegistry): ManagerMetrics {
  const r = registry ?? new Registry();
  return {
    positions: getOrCreateMetric(
      r,
      'lc_positions_total',
      () =>
        new Gauge({
          name: 'lc_positions_total',
          help: 'Positions held in memory, by kind',
          labelNames: ['kind'],
          registers: [r],
        }),
    ),
    flushDuration: getOrCreateMetric(
      r,
      'lc_positions_flush_duration_seconds',
      () =>
        new Histogram({
          name: 'lc_positions_flush_duration_seconds',
          help: 'Duration of position flushes to the store',
          buckets: DURATION_BUCKETS,
          registers: [r],
        }),
    ),
    flushes: getOrCreateMetric(
      r,
      'lc_positions_flushes_total',
      () =>
        new Counter({
          name: 'lc_positions_flushes_total',
          help: 'Position flushes, by result (ok, error)',
          labelNames: ['result'],
          registers: [r],
        }),
    ),
    cleanupDuration: getOrCreateMetric(
      r,
      'lc_positions_cleanup_duration_seconds',
      () =>
        new Histogram({
          name: 'lc_positions_cleanup_duration_seconds',
          help: 'Duration of stale-position cleanups',
          buckets: DURATION_BUCKETS,
          registers: [r],
        }),
    ),
    updates: getOrCreateMetric(
      r,
      'lc_positions_updates_total',
      () =>
        new Counter({
          name: 'lc_positions_updates_total',
          help: 'Position updates, by operation (commit, upsert, reset, remove, stale)',
          labelNames: ['op'],
          registers: [r],
        }),
    ),
    errors: getOrCreateMetric(
      r,
      'lc_positions_errors_total',
      () =>
        new Counter({
          name: 'lc_positions_errors_total',
          help: 'Position manager errors, by type (flush, load, marker, cleanup)',
          labelNames: ['type'],
          registers: [r],
        }),
    ),
    resets: getOrCreateMetric(
      r,
      'lc_positions_resets_total',
      () =>
        new Counter({
          name: 'lc_positions_resets_total',
          help: 'Offsets moved back by a rotation/truncation event, by reason',
          labelNames: ['reason'],
          registers: [r],
        }),
    ),
    evictions: getOrCreateMetric(
      r,
      'lc_positions_evictions_total',
      () =>
        new Counter({
          name: 'lc_positions_evictions_total',
          help: 'Positions dropped from memory and store, by cause (age, cap)',
          labelNames: ['cause'],
          registers: [r],
        }),
    ),
  };
}

/** Register (or reuse) the store metrics on `registry`. */
export function storeMetrics(registry?: MetricsRegistry): StoreMetrics {
  const r = registry ?? new Registry();
  return {
    corruption: getOrCreateMetric(
      r,
      'lc_positions_corruption_detected_total',
      () =>
        new Counter({
          name: 'lc_positions_corruption_detected_total',
          help: 'Corrupt or truncated position files/entries detected on load',
          labelNames: ['store'],
          registers: [r],
        }),
    ),
    recoveries: getOrCreateMetric(
      r,
      'lc_positions_recoveries_total',
      () =>
        new Counter({
          name: 'lc_positions_recoveries_total',
          help: 'Recoveries from corruption, by strategy (restore_backup, recreate)',
          labelNames: ['store', 'strategy'],
          registers: [r],
        }),
    ),
    backups: getOrCreateMetric(
      r,
      'lc_positions_backups_total',
      () =>
        new Counter({
          name: 'lc_positions_backups_total',
          help: 'Position backups taken',
          labelNames: ['store'],
          registers: [r],
        }),
    ),
    errors: getOrCreateMetric(
      r,
      'lc_positions_store_errors_total',
      () =>
        new Counter({
          name: 'lc_positions_store_errors_total',
          help: 'Position store I/O errors, by type (load, save, backup, sync, compact)',
          labelNames: ['store', 'type'],
          registers: [r],
        }),
    ),
    journalRecoveries: getOrCreateMetric(
      r,
      'lc_positions_journal_recoveries_total',
      () =>
        new Counter({
          name: 'lc_positions_journal_recoveries_total',
          help: 'Position journals read back only up to their last valid record (torn or damaged tail)',
          labelNames: ['store'],
          registers: [r],
        }),
    ),
    journalDroppedBytes: getOrCreateMetric(
      r,
      'lc_positions_journal_dropped_bytes_total',
      () =>
        new Counter({
          name: 'lc_positions_journal_dropped_bytes_total',
          help: 'Bytes of position journals past their last valid record, ignored on load',
          labelNames: ['store'],
          registers: [r],
        }),
    ),
    compactions: getOrCreateMetric(
      r,
      'lc_positions_compactions_total',
      () =>
        new Counter({
          name: 'lc_positions_compactions_total',
          help: 'Position journals folded into a new snapshot file',
          labelNames: ['store'],
          registers: [r],
        }),
    ),
  };
}

/** The manager's own counters, all at zero (see `PositionManagerStats`). */
export function emptyCounters() {
  return {
    updates: 0,
    commits: 0,
    staleCommits: 0,
    resets: 0,
    flushes: 0,
    flushErrors: 0,
    lastFlushDurationMs: 0,
    lastFlushPositions: 0,
    lastFlushAtMs: 0,
    cleanups: 0,
    lastCleanupDurationMs: 0,
    evictions: 0,
    errors: 0,
  };
}

/**
 * Hot-path update counts kept as plain numbers and published to prom-client
 * at each save and `stats()` call: a labelled `inc()` costs more than the
 * commit itself. The metric lags by at most one save.
 */
export class PendingUpdateCounts {
  commit = 0;
  stale = 0;
  upsert = 0;
  private readonly counter: Counter<'op'>;

  constructor(counter: Counter<'op'>) {
    this.counter = counter;
  }

  publish(): void {
    for (const op of ['commit', 'stale', 'upsert'] as const) {
      if (this[op] > 0) this.counter.inc({ op }, this[op]);
      this[op] = 0;
    }
  }
}
