import { getOrCreateMetric } from '@lc/core';
import type { MetricsRegistry } from '@lc/core';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CircuitState } from './circuit-breaker.js';

const CIRCUIT_GAUGE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Reads live values for gauges at scrape time. */
export interface GaugeSnapshot {
  queueRecords: number;
  queueBytes: number;
  queueUtilization: number;
  retryQueueSize: number;
  /** Records and estimated bytes in the spill (0 without one). */
  spillRecords: number;
  spillBytes: number;
  circuit: ReadonlyArray<{ sink: string; state: CircuitState }>;
}

type Provider = { name: string; read: () => GaugeSnapshot };

// Several dispatchers may share a registry: gauges are collected from every
// live provider registered for it, distinguished by the `dispatcher` label.
const providers = new WeakMap<MetricsRegistry, Set<Provider>>();

function gauge(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: string[],
  set: (g: Gauge, snap: GaugeSnapshot, dispatcher: string) => void,
): void {
  getOrCreateMetric(
    registry,
    name,
    () =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const p of providers.get(registry) ?? [])
            set(this, p.read(), p.name);
        },
      }),
  );
}

/** Per-sink bound metric children (no label lookups on the hot path). */
export interface SinkMetrics {
  batchesOk: Counter.Internal;
  batchesRetryable: Counter.Internal;
  batchesFailed: Counter.Internal;
  batchesPartial: Counter.Internal;
  recordsSent: Counter.Internal;
  sendSeconds: Histogram.Internal<string>;
  retries: Counter.Internal;
}

/** The dispatcher's metrics on one registry. */
export interface DispatcherMetrics {
  sink(name: string): SinkMetrics;
  dropped(reason: string, count: number): void;
  deadLettered(sink: string, reason: string, count: number): void;
  fallback(sink: string, fallback: string, count: number): void;
  retryDropped(count: number): void;
  backpressureSeconds(seconds: number): void;
  /** Records (and estimated bytes) that went to the spill. */
  spilled(records: number, bytes: number): void;
  latencySeconds(seconds: number): void;
  /** Stop reporting gauges for this dispatcher. */
  close(): void;
}

/** Register (or reuse) the dispatcher metrics on `registry`. */
export function createDispatcherMetrics(
  registry: MetricsRegistry,
  dispatcher: string,
  read: () => GaugeSnapshot,
): DispatcherMetrics {
  const provider: Provider = { name: dispatcher, read };
  let set = providers.get(registry);
  if (set === undefined) {
    set = new Set();
    providers.set(registry, set);
  }
  set.add(provider);
  const d = ['dispatcher'];
  gauge(
    registry,
    'lc_dispatcher_queue_records',
    'Records held (accepted, not yet settled).',
    d,
    (g, s, n) => g.set({ dispatcher: n }, s.queueRecords),
  );
  gauge(
    registry,
    'lc_dispatcher_queue_bytes',
    'Estimated bytes held (accepted, not yet settled).',
    d,
    (g, s, n) => g.set({ dispatcher: n }, s.queueBytes),
  );
  gauge(
    registry,
    'lc_dispatcher_queue_utilization',
    'Held bytes or records over their budget, the larger (0..1+).',
    d,
    (g, s, n) => g.set({ dispatcher: n }, s.queueUtilization),
  );
  gauge(
    registry,
    'lc_dispatcher_retry_queue_size',
    'Deliveries waiting for their next attempt.',
    d,
    (g, s, n) => g.set({ dispatcher: n }, s.retryQueueSize),
  );
  gauge(
    registry,
    'lc_dispatcher_spill_records',
    'Records in the disk spill (accepted, not back in memory yet).',
    d,
    (g, s, n) => g.set({ dispatcher: n }, s.spillRecords),
  );
  gauge(
    registry,
    'lc_dispatcher_spill_bytes',
    'Estimated bytes of the records in the disk spill.',
    d,
    (g, s, n) => g.set({ dispatcher: n }, s.spillBytes),
  );
  gauge(
    registry,
    'lc_dispatcher_circuit_state',
    'Circuit state per sink: 0 closed, 1 half-open, 2 open.',
    ['dispatcher', 'sink'],
    (g, s, n) => {
      for (const c of s.circuit)
        g.set({ dispatcher: n, sink: c.sink }, CIRCUIT_GAUGE[c.state]);
    },
  );
  const counter = (name: string, help: string, labelNames: string[]): Counter =>
    getOrCreateMetric(
      registry,
      name,
      () => new Counter({ name, help, labelNames, registers: [registry] }),
    );
  const batches = counter(
    'lc_dispatcher_batches_total',
    'Delivery attempts per sink and result.',
    ['dispatcher', 'sink', 'result'],
  );
  const records = counter(
    'lc_dispatcher_records_sent_total',
    'Records delivered per sink.',
    ['dispatcher', 'sink'],
  );
  const retries = counter(
    'lc_dispatcher_retries_total',
    'Deliveries scheduled for a retry.',
    ['dispatcher', 'sink'],
  );
  const retryDrops = counter(
    'lc_dispatcher_retry_drops_total',
    'Retries dropped (should stay 0: the retry queue backpressures instead).',
    d,
  );
  const dropped = counter(
    'lc_dispatcher_records_dropped_total',
    'Records not delivered on purpose, by reason.',
    ['dispatcher', 'reason'],
  );
  const dlq = counter(
    'lc_dispatcher_dead_lettered_records_total',
    'Records dead-lettered, by sink and reason code.',
    ['dispatcher', 'sink', 'reason'],
  );
  const fallback = counter(
    'lc_dispatcher_fallback_records_total',
    'Records sent to a fallback sink instead of their sink.',
    ['dispatcher', 'sink', 'fallback'],
  );
  const backpressure = counter(
    'lc_dispatcher_backpressure_seconds_total',
    'Time the intake spent refusing records (over budget).',
    d,
  );
  const spilledRecords = counter(
    'lc_dispatcher_spilled_records_total',
    'Records that went to the disk spill because the intake was full.',
    d,
  );
  const spilledBytes = counter(
    'lc_dispatcher_spilled_bytes_total',
    'Estimated bytes of the records that went to the disk spill.',
    d,
  );
  const sendSeconds = getOrCreateMetric(
    registry,
    'lc_dispatcher_send_duration_seconds',
    () =>
      new Histogram({
        name: 'lc_dispatcher_send_duration_seconds',
        help: 'Duration of one sink write.',
        labelNames: ['dispatcher', 'sink'],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
        registers: [registry],
      }),
  );
  const latency = getOrCreateMetric(
    registry,
    'lc_dispatcher_settle_latency_seconds',
    () =>
      new Histogram({
        name: 'lc_dispatcher_settle_latency_seconds',
        help: 'Accepted → settled, per batch, for the oldest record of the batch.',
        labelNames: ['dispatcher'],
        buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
        registers: [registry],
      }),
  );
  // Bound once: spilling is per record.
  const spilledRecordsOf = spilledRecords.labels({ dispatcher });
  const spilledBytesOf = spilledBytes.labels({ dispatcher });
  const sinks = new Map<string, SinkMetrics>();
  return {
    sink(name) {
      let m = sinks.get(name);
      if (m === undefined) {
        const l = { dispatcher, sink: name };
        m = {
          batchesOk: batches.labels({ ...l, result: 'success' }),
          batchesRetryable: batches.labels({ ...l, result: 'retryable' }),
          batchesFailed: batches.labels({ ...l, result: 'failure' }),
          batchesPartial: batches.labels({ ...l, result: 'partial' }),
          recordsSent: records.labels(l),
          sendSeconds: sendSeconds.labels(l),
          retries: retries.labels(l),
        };
        sinks.set(name, m);
      }
      return m;
    },
    dropped: (reason, count) => dropped.inc({ dispatcher, reason }, count),
    deadLettered: (sink, reason, count) =>
      dlq.inc({ dispatcher, sink, reason }, count),
    fallback: (sink, fb, count) =>
      fallback.inc({ dispatcher, sink, fallback: fb }, count),
    retryDropped: (count) => retryDrops.inc({ dispatcher }, count),
    backpressureSeconds: (s) => backpressure.inc({ dispatcher }, s),
    spilled: (n, bytes) => {
      spilledRecordsOf.inc(n);
      spilledBytesOf.inc(bytes);
    },
    latencySeconds: (s) => latency.observe({ dispatcher }, s),
    close() {
      set.delete(provider);
    },
  };
}
