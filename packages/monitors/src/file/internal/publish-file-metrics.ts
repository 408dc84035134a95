import type { FileMetrics } from './file-metrics.js';
import type { SplitterCounters } from './line-splitter.js';
import type { TailedFile } from './tailed-file.js';

/**
 * Move what the splitters counted during a pass into the metrics (and
 * zero the counters), and publish the open descriptors.
 */
export function publishCounters(
  c: SplitterCounters,
  metrics: Pick<FileMetrics, 'longLines' | 'invalidChars' | 'filesOpen'>,
  openFiles: number,
): void {
  if (c.truncatedLines > 0)
    metrics.longLines.inc({ action: 'truncated' }, c.truncatedLines);
  if (c.skippedLines > 0)
    metrics.longLines.inc({ action: 'skipped' }, c.skippedLines);
  if (c.invalidChars > 0) metrics.invalidChars.inc(c.invalidChars);
  c.truncatedLines = 0;
  c.skippedLines = 0;
  c.invalidChars = 0;
  metrics.filesOpen.set(openFiles);
}

/** Show the `topN` files with the most bytes not read yet in `lc_file_read_lag_bytes`. */
export function publishReadLag(
  files: Iterable<TailedFile>,
  metrics: Pick<FileMetrics, 'readLagBytes'>,
  topN: number,
): void {
  metrics.readLagBytes.reset();
  if (topN === 0) return;
  const lags: Array<[string, number]> = [];
  for (const f of files) {
    const lag = f.size - f.splitter.fedOffset;
    if (lag > 0) lags.push([f.path, lag]);
  }
  lags.sort((a, b) => b[1] - a[1]);
  for (const [path, lag] of lags.slice(0, topN))
    metrics.readLagBytes.set({ path }, lag);
}
