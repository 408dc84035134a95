import type { MetricsRegistry } from '@lc/core';
import { getOrCreateMetric } from '@lc/core';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Why a stream failed or was forced closed. */
export type StreamErrorType =
  | 'open_failed'
  | 'read_failed'
  | 'stale'
  | 'system_error'
  | 'resume_mismatch'
  | 'removed_unread';

/** The container monitor's metrics, registered once per registry. */
export interface ContainerMetrics {
  readonly activeStreams: Gauge;
  readonly queuedStreams: Gauge;
  readonly poolUtilization: Gauge;
  readonly rotations: Counter;
  readonly streamAge: Histogram;
  readonly streamErrors: Counter;
  readonly events: Counter;
  readonly reconnects: Counter;
  readonly lines: Counter;
  readonly bytes: Counter;
  readonly boundaryDuplicates: Counter;
  readonly excluded: Counter;
  readonly replayedLines: Counter;
}

/** Register (or reuse) the metrics on `registry`. */
export function createContainerMetrics(
  registry: MetricsRegistry,
): ContainerMetrics {
  const registers = [registry];
  return {
    activeStreams: getOrCreateMetric(
      registry,
      'lc_container_streams_active',
      () =>
        new Gauge({
          name: 'lc_container_streams_active',
          help: 'Open Docker log streams.',
          registers,
        }),
    ),
    queuedStreams: getOrCreateMetric(
      registry,
      'lc_container_streams_queued',
      () =>
        new Gauge({
          name: 'lc_container_streams_queued',
          help: 'Containers waiting for a stream slot.',
          registers,
        }),
    ),
    poolUtilization: getOrCreateMetric(
      registry,
      'lc_container_stream_pool_utilization',
      () =>
        new Gauge({
          name: 'lc_container_stream_pool_utilization',
          help: 'Open streams / maxConcurrentStreams (0..1).',
          registers,
        }),
    ),
    rotations: getOrCreateMetric(
      registry,
      'lc_container_stream_rotations_total',
      () =>
        new Counter({
          name: 'lc_container_stream_rotations_total',
          help: 'Planned stream rotations (close and reopen from the position).',
          registers,
        }),
    ),
    streamAge: getOrCreateMetric(
      registry,
      'lc_container_stream_age_seconds',
      () =>
        new Histogram({
          name: 'lc_container_stream_age_seconds',
          help: 'Age of log streams when they closed.',
          buckets: [1, 10, 60, 120, 180, 240, 300, 360, 600],
          registers,
        }),
    ),
    streamErrors: getOrCreateMetric(
      registry,
      'lc_container_stream_errors_total',
      () =>
        new Counter({
          name: 'lc_container_stream_errors_total',
          help: 'Stream errors by type.',
          labelNames: ['type'],
          registers,
        }),
    ),
    events: getOrCreateMetric(
      registry,
      'lc_container_events_total',
      () =>
        new Counter({
          name: 'lc_container_events_total',
          help: 'Docker container events received, by action.',
          labelNames: ['action'],
          registers,
        }),
    ),
    reconnects: getOrCreateMetric(
      registry,
      'lc_container_events_reconnects_total',
      () =>
        new Counter({
          name: 'lc_container_events_reconnects_total',
          help: 'Reconnections of the Docker events stream.',
          registers,
        }),
    ),
    lines: getOrCreateMetric(
      registry,
      'lc_container_lines_total',
      () =>
        new Counter({
          name: 'lc_container_lines_total',
          help: 'Lines read per container (bounded cardinality).',
          labelNames: ['container'],
          registers,
        }),
    ),
    bytes: getOrCreateMetric(
      registry,
      'lc_container_bytes_total',
      () =>
        new Counter({
          name: 'lc_container_bytes_total',
          help: 'Log bytes read per container (bounded cardinality).',
          labelNames: ['container'],
          registers,
        }),
    ),
    boundaryDuplicates: getOrCreateMetric(
      registry,
      'lc_container_boundary_duplicates_dropped_total',
      () =>
        new Counter({
          name: 'lc_container_boundary_duplicates_dropped_total',
          help: "Entries replayed by Docker's inclusive `since` and dropped.",
          registers,
        }),
    ),
    excluded: getOrCreateMetric(
      registry,
      'lc_container_excluded_total',
      () =>
        new Counter({
          name: 'lc_container_excluded_total',
          help: 'Containers not captured, by reason.',
          labelNames: ['reason'],
          registers,
        }),
    ),
    replayedLines: getOrCreateMetric(
      registry,
      'lc_container_attach_replayed_lines_total',
      () =>
        new Counter({
          name: 'lc_container_attach_replayed_lines_total',
          help: 'Lines of removed containers (`--rm`) read from the attach opened at create, their log gone before it was read to the end.',
          registers,
        }),
    ),
  };
}
