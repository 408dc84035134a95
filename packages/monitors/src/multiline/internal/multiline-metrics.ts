import { Counter, Registry } from 'prom-client';
import type { MetricsRegistry } from '@lc/core';
import { getOrCreateMetric } from '@lc/core';
import type {
  JoinableLine,
  JoinedRecord,
  MultilineFlushReason,
} from '../multiline-joiner.js';

/** Counts the records a source's joiners emitted other than by their rule. */
export interface MultilineMetrics {
  /** Count `records` whose reason is not `rule`. */
  count(records: readonly JoinedRecord<JoinableLine>[]): void;
}

/**
 * `lc_multiline_flushes_total{source, reason}` on `registry`: records
 * emitted at `max_lines` or `max_bytes` (the rest of the lines form the
 * next record), on `timeout`, or on `flush` (the source ended). Records
 * the rule completed are not counted (one per record would cost more
 * than the join).
 *
 * @param source the `source` label: `file`, `container`, …
 */
export function createMultilineMetrics(
  registry: MetricsRegistry = new Registry(),
  source: string,
): MultilineMetrics {
  const flushes = getOrCreateMetric(
    registry,
    'lc_multiline_flushes_total',
    () =>
      new Counter({
        name: 'lc_multiline_flushes_total',
        help: 'Multiline records emitted at max_lines or max_bytes (the following lines form the next record), on flush_timeout, or when the source ended (flush), by source kind.',
        labelNames: ['source', 'reason'] as const,
        registers: [registry],
      }),
  ) as Counter<'source' | 'reason'>;
  return {
    count(records) {
      for (const r of records) {
        if (r.reason !== 'rule')
          flushes.inc({
            source,
            reason: r.reason satisfies MultilineFlushReason,
          });
      }
    },
  };
}
