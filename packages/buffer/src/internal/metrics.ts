import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { getOrCreateMetric, type MetricsRegistry } from '@lc/core';

/** The disk log's metrics, all labelled with `buffer` (the log's name). */
export interface DiskLogMetrics {
  bytesWritten: Counter<'buffer'>;
  recordsWritten: Counter<'buffer'>;
  bytesRead: Counter<'buffer'>;
  recordsRead: Counter<'buffer'>;
  segments: Gauge<'buffer'>;
  diskBytes: Gauge<'buffer'>;
  fsyncs: Counter<'buffer'>;
  fsyncSeconds: Histogram<'buffer'>;
  corruptions: Counter<'buffer' | 'reason'>;
  dropped: Counter<'buffer' | 'reason'>;
}

export function createDiskLogMetrics(
  registry: MetricsRegistry | undefined,
): DiskLogMetrics {
  const reg = registry ?? new Registry();
  const counter = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
  ): Counter<L> =>
    getOrCreateMetric(
      reg,
      name,
      () => new Counter({ name, help, labelNames, registers: [reg] }),
    );
  const gauge = (name: string, help: string): Gauge<'buffer'> =>
    getOrCreateMetric(
      reg,
      name,
      () => new Gauge({ name, help, labelNames: ['buffer'], registers: [reg] }),
    );
  return {
    bytesWritten: counter(
      'lc_buffer_written_bytes_total',
      'Bytes appended to buffer segments.',
      ['buffer'],
    ),
    recordsWritten: counter(
      'lc_buffer_written_records_total',
      'Records appended.',
      ['buffer'],
    ),
    bytesRead: counter(
      'lc_buffer_read_bytes_total',
      'Payload bytes read back.',
      ['buffer'],
    ),
    recordsRead: counter('lc_buffer_read_records_total', 'Records read back.', [
      'buffer',
    ]),
    segments: gauge('lc_buffer_segments', 'Segment files on disk.'),
    diskBytes: gauge('lc_buffer_disk_bytes', 'Bytes used by segment files.'),
    fsyncs: counter(
      'lc_buffer_fsyncs_total',
      'fsync/fdatasync calls on segments and the ack journal.',
      ['buffer'],
    ),
    fsyncSeconds: getOrCreateMetric(
      reg,
      'lc_buffer_fsync_duration_seconds',
      () =>
        new Histogram({
          name: 'lc_buffer_fsync_duration_seconds',
          help: 'Duration of segment fsyncs.',
          labelNames: ['buffer'],
          buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
          registers: [reg],
        }),
    ),
    corruptions: counter(
      'lc_buffer_corruptions_total',
      'Damaged ranges, segments or files detected, quarantined and skipped.',
      ['buffer', 'reason'],
    ),
    dropped: counter(
      'lc_buffer_dropped_records_total',
      'Unacknowledged records deleted by retention or lost to corruption.',
      ['buffer', 'reason'],
    ),
  };
}
