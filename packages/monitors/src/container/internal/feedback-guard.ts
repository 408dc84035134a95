import type { Clock, Logger, TimerHandle } from '@lc/core';
import type { FeedbackGuardOptions } from '../container-monitor-options.js';
import type { ContainerMetrics } from './container-metrics.js';
import type { ContainerTracker } from './container-tracker.js';
import type { TrackedContainer } from './tracked-container.js';

/** What {@link FeedbackGuard} needs from the monitor. */
export interface FeedbackGuardContext {
  /** The resolved `feedbackGuard` option; undefined: no guard. */
  readonly guard: Required<FeedbackGuardOptions> | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<ContainerMetrics, 'excluded'>;
  readonly tracker: Pick<ContainerTracker, 'values'>;
  readonly isStopping: () => boolean;
}

/**
 * The feedback-loop guard: every `windowMs`, a container that wrote at
 * least `maxShare` of the lines read (when at least `minLines` were read,
 * from two containers or more) is excluded and its stream closed; the
 * agent shipping its own logs would otherwise read itself in a loop.
 */
export class FeedbackGuard {
  private readonly ctx: FeedbackGuardContext;
  private windowTotal = 0;
  private timer: TimerHandle | undefined;

  constructor(ctx: FeedbackGuardContext) {
    this.ctx = ctx;
  }

  /** Count one line read from `t` in the current window. */
  noteLine(t: TrackedContainer): void {
    t.windowLines++;
    this.windowTotal++;
  }

  /** Start the first window (no-op without a guard). */
  start(): void {
    const guard = this.ctx.guard;
    if (guard === undefined) return;
    this.timer = this.ctx.clock.setTimeout(() => this.check(), guard.windowMs);
    this.timer.unref();
  }

  /** Stop checking (shutdown). */
  stop(): void {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
  }

  private check(): void {
    const { guard, tracker, metrics, logger } = this.ctx;
    if (guard === undefined || this.ctx.isStopping()) return;
    const contributors = [...tracker.values()].filter((t) => t.windowLines > 0);
    if (this.windowTotal >= guard.minLines && contributors.length >= 2) {
      for (const t of contributors) {
        if (
          t.windowLines / this.windowTotal >= guard.maxShare &&
          t.excluded === undefined
        ) {
          t.excluded = 'feedback';
          metrics.excluded.inc({ reason: 'feedback' });
          logger.warn(
            {
              containerId: t.id,
              name: t.name,
              share: t.windowLines / this.windowTotal,
            },
            'container excluded by the feedback-loop guard',
          );
          t.session?.close('excluded');
        }
      }
    }
    for (const t of tracker.values()) t.windowLines = 0;
    this.windowTotal = 0;
    this.timer = this.ctx.clock.setTimeout(() => this.check(), guard.windowMs);
    this.timer.unref();
  }
}
