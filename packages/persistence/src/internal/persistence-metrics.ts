import { getOrCreateMetric } from '@lc/core';
import type { MetricsRegistry } from '@lc/core';
import { Counter, Gauge } from 'prom-client';

const counter = (
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: string[] = [],
): Counter =>
  getOrCreateMetric(
    registry,
    name,
    () => new Counter({ name, help, labelNames, registers: [registry] }),
  );

/** Metrics of the batch WAL. */
export function createPersistenceMetrics(registry: MetricsRegistry) {
  let source: () => { batches: number; bytes: number } = () => ({
    batches: 0,
    bytes: 0,
  });
  const pendingBatches = getOrCreateMetric(
    registry,
    'lc_persistence_pending_batches',
    () =>
      new Gauge({
        name: 'lc_persistence_pending_batches',
        help: 'Unsettled batches held in the WAL',
        registers: [registry],
        collect() {
          this.set(source().batches);
        },
      }),
  );
  const pendingBytes = getOrCreateMetric(
    registry,
    'lc_persistence_pending_bytes',
    () =>
      new Gauge({
        name: 'lc_persistence_pending_bytes',
        help: 'WAL bytes of unsettled batches',
        registers: [registry],
        collect() {
          this.set(source().bytes);
        },
      }),
  );
  return {
    pendingBatches,
    pendingBytes,
    persisted: counter(
      registry,
      'lc_persistence_batches_persisted_total',
      'Batches written to the WAL',
    ),
    settled: counter(
      registry,
      'lc_persistence_batches_settled_total',
      'Batches settled (delivered or dead-lettered everywhere)',
    ),
    recovered: counter(
      registry,
      'lc_persistence_batches_recovered_total',
      'Unsettled batches found in the WAL on open',
    ),
    expired: counter(
      registry,
      'lc_persistence_batches_expired_total',
      'Batches dead-lettered after batchTtlMs',
    ),
    redelivered: counter(
      registry,
      'lc_persistence_batches_redelivered_total',
      'Batches offered again by the recovery loop',
    ),
    deadLettered: counter(
      registry,
      'lc_persistence_batch_dead_letters_total',
      '(batch, sink) pairs settled into the DLQ',
      ['code'],
    ),
    corrupt: counter(
      registry,
      'lc_persistence_wal_corrupt_entries_total',
      'WAL entries that failed to decode',
    ),
    /** Point the gauges at the live state (the last opened instance wins). */
    observe(fn: () => { batches: number; bytes: number }): void {
      source = fn;
    },
  };
}
