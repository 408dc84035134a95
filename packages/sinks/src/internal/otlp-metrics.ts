import { getOrCreateMetric } from '@lc/core';
import type { MetricsRegistry } from '@lc/core';
import { Counter, Registry } from 'prom-client';
import { createSinkMetrics } from './sink-metrics.js';
import type { SinkMetrics } from './sink-metrics.js';

/** The common sink counters plus the OTLP partial-success counter. */
export interface OtlpMetrics extends SinkMetrics {
  /** Count records an endpoint reported rejected in a partial success. */
  rejected(n: number): void;
}

/** Register (or reuse) the OTLP sink's counters on `registry`. */
export function createOtlpMetrics(
  registry: MetricsRegistry | undefined,
  sink: string,
): OtlpMetrics {
  const reg = registry ?? new Registry();
  const base = createSinkMetrics(reg, 'otlp', sink);
  const rejected = getOrCreateMetric(
    reg,
    'lc_sink_otlp_rejected_records_total',
    () =>
      new Counter({
        name: 'lc_sink_otlp_rejected_records_total',
        help: 'Log records an OTLP endpoint accepted the request for but rejected (partial_success.rejected_log_records).',
        labelNames: ['sink'],
        registers: [reg],
      }),
  );
  return {
    ...base,
    rejected: (n) => {
      if (n > 0) rejected.inc({ sink }, n);
    },
  };
}
