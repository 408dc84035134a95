import { getOrCreateMetric } from '@lc/core';
import type { MetricsRegistry } from '@lc/core';
import { Counter, Registry } from 'prom-client';

/** Counters every lc sink keeps, labelled by sink name. */
export interface SinkMetrics {
  /** Count one request/attempt outcome (HTTP status, `error`, ...). */
  request(status: string): void;
  /** Count records by outcome: `delivered`, `failed`, `retryable`, `dropped`. */
  records(outcome: string, n: number): void;
  /** Count labels moved to metadata or dropped, by reason. */
  labels(action: string, reason: string, n: number): void;
}

/** Register (or reuse) the sink counters on `registry`. */
export function createSinkMetrics(
  registry: MetricsRegistry | undefined,
  kind: string,
  sink: string,
): SinkMetrics {
  const reg = registry ?? new Registry();
  const requests = getOrCreateMetric(
    reg,
    'lc_sink_requests_total',
    () =>
      new Counter({
        name: 'lc_sink_requests_total',
        help: 'Delivery attempts by sink and outcome (HTTP status or error).',
        labelNames: ['kind', 'sink', 'status'],
        registers: [reg],
      }),
  );
  const records = getOrCreateMetric(
    reg,
    'lc_sink_records_total',
    () =>
      new Counter({
        name: 'lc_sink_records_total',
        help: 'Records by sink and outcome (delivered, failed, retryable, dropped).',
        labelNames: ['kind', 'sink', 'outcome'],
        registers: [reg],
      }),
  );
  const labels = getOrCreateMetric(
    reg,
    'lc_sink_labels_total',
    () =>
      new Counter({
        name: 'lc_sink_labels_total',
        help: 'Labels not indexed (moved to metadata or dropped), by reason.',
        labelNames: ['kind', 'sink', 'action', 'reason'],
        registers: [reg],
      }),
  );
  return {
    request: (status) => requests.inc({ kind, sink, status }),
    records: (outcome, n) => {
      if (n > 0) records.inc({ kind, sink, outcome }, n);
    },
    labels: (action, reason, n) => {
      if (n > 0) labels.inc({ kind, sink, action, reason }, n);
    },
  };
}
