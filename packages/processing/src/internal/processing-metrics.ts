import type { MetricsRegistry } from '@lc/core';
import { getOrCreateMetric } from '@lc/core';
import { Counter } from 'prom-client';

/** Per-pipeline record counts, plain numbers added to the counter at scrape time. */
export interface Tally {
  readonly pipeline: string;
  kept: number;
  dropped: number;
  reportedKept: number;
  reportedDropped: number;
}

const talliesOf = new WeakMap<object, Set<Tally>>();

/** The processing metrics on `registry`, shared by every processor on it. */
export interface ProcessingMetrics {
  /** A tally reported as `lc_processing_records_total{pipeline, outcome}`. */
  tally(pipeline: string): Tally;
  /** `lc_processing_events_total{pipeline, event}` += 1. */
  event(pipeline: string, event: string): void;
}

/** Register (or find) the processing metrics on `registry`. */
export function processingMetrics(
  registry: MetricsRegistry,
): ProcessingMetrics {
  const records = getOrCreateMetric(
    registry,
    'lc_processing_records_total',
    () => {
      const tallies = new Set<Tally>();
      const counter: Counter = new Counter({
        name: 'lc_processing_records_total',
        help: 'Records through processing pipelines, by outcome (kept, dropped).',
        labelNames: ['pipeline', 'outcome'],
        registers: [registry],
        // Per-record counting stays in plain numbers; they are added here at
        // scrape time (a labelled inc() per record costs more than a step).
        collect() {
          for (const t of tallies) {
            if (t.kept > t.reportedKept)
              counter.labels(t.pipeline, 'kept').inc(t.kept - t.reportedKept);
            if (t.dropped > t.reportedDropped)
              counter
                .labels(t.pipeline, 'dropped')
                .inc(t.dropped - t.reportedDropped);
            t.reportedKept = t.kept;
            t.reportedDropped = t.dropped;
          }
        },
      });
      talliesOf.set(counter, tallies);
      return counter;
    },
  );
  const tallies = talliesOf.get(records) ?? new Set<Tally>();
  const events = getOrCreateMetric(
    registry,
    'lc_processing_events_total',
    () =>
      new Counter({
        name: 'lc_processing_events_total',
        help: 'Notable processing events (timestamp_unparsed, timestamp_clamp, timestamp_reject, timestamp_warn, step_error, and those of custom steps).',
        labelNames: ['pipeline', 'event'],
        registers: [registry],
      }),
  );
  return {
    tally(pipeline) {
      const t: Tally = {
        pipeline,
        kept: 0,
        dropped: 0,
        reportedKept: 0,
        reportedDropped: 0,
      };
      tallies.add(t);
      return t;
    },
    event: (pipeline, event) => events.labels(pipeline, event).inc(),
  };
}
