import type { Logger } from '@lc/core';
import type { DispatcherMetrics } from './dispatcher-metrics.js';

/** Counts records not delivered on purpose, by reason: counted, never silent. */
export class DropCounter {
  private readonly counts: Record<string, number> = {};
  private readonly metrics: DispatcherMetrics;
  private readonly logger: Logger;

  constructor(metrics: DispatcherMetrics, logger: Logger) {
    this.metrics = metrics;
    this.logger = logger;
  }

  /**
   * Count `count` records dropped for `reason` (a metric, and a warning on
   * the first and every 10,000th). `logged: false` when the caller logs it.
   */
  count(reason: string, count: number, logged = true): void {
    if (count === 0) return;
    const before = this.counts[reason] ?? 0;
    this.counts[reason] = before + count;
    this.metrics.dropped(reason, count);
    // Log the first drop of each reason, then every 10,000th.
    if (!logged) return;
    if (
      before === 0 ||
      Math.floor(before / 10_000) !== Math.floor((before + count) / 10_000)
    ) {
      this.logger.warn(
        { reason, total: before + count },
        'dispatcher dropped records',
      );
    }
  }

  snapshot(): Readonly<Record<string, number>> {
    return { ...this.counts };
  }
}
