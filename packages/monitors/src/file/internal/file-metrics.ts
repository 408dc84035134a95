import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricsRegistry } from '@lc/core';
import { getOrCreateMetric } from '@lc/core';
import type { SplitterCounters } from './line-splitter.js';
import type { TailedFile } from './tailed-file.js';

/** Rotation kinds counted by `lc_file_rotations_total`. */
export type RotationKind =
  | 'rename'
  | 'copytruncate'
  | 'truncate'
  | 'delete'
  | 'inode-reused'
  | 'rotated-while-down'
  | 'compressed';

/** The file monitor's metrics, registered once per registry. */
export interface FileMetrics {
  readonly filesActive: Gauge;
  readonly filesOpen: Gauge;
  readonly directoriesWatched: Gauge;
  readonly bytesRead: Counter;
  readonly linesRead: Counter;
  readonly rotations: Counter<'kind'>;
  readonly truncations: Counter;
  readonly partialLineFlushes: Counter;
  readonly longLines: Counter<'action'>;
  readonly invalidChars: Counter;
  readonly readLagBytes: Gauge<'path'>;
  readonly errors: Counter<'kind'>;
  readonly unreadBytes: Counter;
}

/** Create (or reuse, when already on `registry`) the file monitor metrics. */
export function createFileMetrics(
  registry: MetricsRegistry = new Registry(),
): FileMetrics {
  const registers = [registry];
  return {
    filesActive: getOrCreateMetric(
      registry,
      'lc_file_files_active',
      () =>
        new Gauge({
          name: 'lc_file_files_active',
          help: 'File identities being tracked (live and draining).',
          registers,
        }),
    ),
    filesOpen: getOrCreateMetric(
      registry,
      'lc_file_files_open',
      () =>
        new Gauge({
          name: 'lc_file_files_open',
          help: 'File descriptors held by the file monitor.',
          registers,
        }),
    ),
    directoriesWatched: getOrCreateMetric(
      registry,
      'lc_file_directories_watched',
      () =>
        new Gauge({
          name: 'lc_file_directories_watched',
          help: 'Directories watched with fs.watch.',
          registers,
        }),
    ),
    bytesRead: getOrCreateMetric(
      registry,
      'lc_file_read_bytes_total',
      () =>
        new Counter({
          name: 'lc_file_read_bytes_total',
          help: 'Bytes read from files.',
          registers,
        }),
    ),
    linesRead: getOrCreateMetric(
      registry,
      'lc_file_read_lines_total',
      () =>
        new Counter({
          name: 'lc_file_read_lines_total',
          help: 'Records emitted from files.',
          registers,
        }),
    ),
    rotations: getOrCreateMetric(
      registry,
      'lc_file_rotations_total',
      () =>
        new Counter({
          name: 'lc_file_rotations_total',
          help: 'Rotations detected, by kind.',
          labelNames: ['kind'] as const,
          registers,
        }),
    ),
    truncations: getOrCreateMetric(
      registry,
      'lc_file_truncations_total',
      () =>
        new Counter({
          name: 'lc_file_truncations_total',
          help: 'Files found shorter than their read offset or rewritten.',
          registers,
        }),
    ),
    partialLineFlushes: getOrCreateMetric(
      registry,
      'lc_file_partial_line_flushes_total',
      () =>
        new Counter({
          name: 'lc_file_partial_line_flushes_total',
          help: 'Unterminated last lines emitted after rotation, deletion or truncation.',
          registers,
        }),
    ),
    longLines: getOrCreateMetric(
      registry,
      'lc_file_long_lines_total',
      () =>
        new Counter({
          name: 'lc_file_long_lines_total',
          help: 'Lines longer than maxLineBytes, by action (truncated, skipped).',
          labelNames: ['action'] as const,
          registers,
        }),
    ),
    invalidChars: getOrCreateMetric(
      registry,
      'lc_file_invalid_chars_total',
      () =>
        new Counter({
          name: 'lc_file_invalid_chars_total',
          help: 'Invalid byte sequences replaced with U+FFFD.',
          registers,
        }),
    ),
    readLagBytes: getOrCreateMetric(
      registry,
      'lc_file_read_lag_bytes',
      () =>
        new Gauge({
          name: 'lc_file_read_lag_bytes',
          help: 'Bytes not yet read, for the files with the largest lag (top-N).',
          labelNames: ['path'] as const,
          registers,
        }),
    ),
    unreadBytes: getOrCreateMetric(
      registry,
      'lc_file_unread_bytes_total',
      () =>
        new Counter({
          name: 'lc_file_unread_bytes_total',
          help: 'Bytes of deleted files closed before they were read (their content is gone with the descriptor)',
          registers,
        }),
    ),
    errors: getOrCreateMetric(
      registry,
      'lc_file_errors_total',
      () =>
        new Counter({
          name: 'lc_file_errors_total',
          help: 'File monitor errors, by kind.',
          labelNames: ['kind'] as const,
          registers,
        }),
    ),
  };
}

/** Move what the splitters counted since the last call into the metrics. */
export function publishSplitterCounters(
  metrics: FileMetrics,
  c: SplitterCounters,
): void {
  if (c.truncatedLines > 0)
    metrics.longLines.inc({ action: 'truncated' }, c.truncatedLines);
  if (c.skippedLines > 0)
    metrics.longLines.inc({ action: 'skipped' }, c.skippedLines);
  if (c.invalidChars > 0) metrics.invalidChars.inc(c.invalidChars);
  c.truncatedLines = 0;
  c.skippedLines = 0;
  c.invalidChars = 0;
}

/** Show the `topN` files with the most unread bytes in `lc_file_read_lag_bytes`. */
export function updateReadLag(
  metrics: FileMetrics,
  files: Iterable<TailedFile>,
  topN: number,
): void {
  metrics.readLagBytes.reset();
  if (topN === 0) return;
  const lags: Array<[string, number]> = [];
  for (const f of files) {
    // A compressed file's size is not its decompressed size.
    const lag = f.gzip ? 0 : f.size - f.splitter.fedOffset;
    if (lag > 0) lags.push([f.path, lag]);
  }
  lags.sort((a, b) => b[1] - a[1]);
  for (const [path, lag] of lags.slice(0, topN))
    metrics.readLagBytes.set({ path }, lag);
}
