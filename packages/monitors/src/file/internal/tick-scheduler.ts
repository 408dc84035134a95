import type { Clock, TimerHandle } from '@lc/core';

/** What {@link TickScheduler} needs from the monitor. */
export interface TickSchedulerContext {
  readonly clock: Clock;
  readonly onError: (error: unknown) => void;
  /** One pass over the files; resolves true when work is left (budgets hit). */
  readonly pass: () => Promise<boolean>;
  /** False before start finished its own pass and after shutdown: nothing is scheduled. */
  readonly canSchedule: () => boolean;
  readonly isStopped: () => boolean;
  /** Delay before the next pass when the last one left no work, in ms. */
  readonly idleDelayMs: () => number;
}

/**
 * Runs passes one at a time: a request during a pass runs another right
 * after it, and a pass that left work schedules the next at once. The
 * timer is `unref()`'d.
 */
export class TickScheduler {
  private readonly clock: Clock;
  private readonly onError: (error: unknown) => void;
  private readonly pass: () => Promise<boolean>;
  private readonly canSchedule: () => boolean;
  private readonly isStopped: () => boolean;
  private readonly idleDelayMs: () => number;
  private timer: TimerHandle | undefined;
  private timerDueAt = Infinity;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  /** Earliest delay requested while a pass ran (applied after it). */
  private delayAfterPass = Infinity;

  constructor(ctx: TickSchedulerContext) {
    this.clock = ctx.clock;
    this.onError = ctx.onError;
    this.pass = ctx.pass;
    this.canSchedule = ctx.canSchedule;
    this.isStopped = ctx.isStopped;
    this.idleDelayMs = ctx.idleDelayMs;
  }

  /** The pass running now, if any. */
  get running(): Promise<void> | undefined {
    return this.ticking;
  }

  /** Run a pass in `delayMs` (or sooner if one is already due). */
  request(delayMs: number): void {
    if (!this.canSchedule()) return;
    if (this.ticking !== undefined) {
      if (delayMs === 0) this.tickAgain = true;
      else this.delayAfterPass = Math.min(this.delayAfterPass, delayMs);
      return;
    }
    const due = this.clock.monotonicNow() + delayMs;
    if (this.timer !== undefined && this.timerDueAt <= due) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDueAt = due;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDueAt = Infinity;
      this.run().catch(this.onError);
    }, delayMs);
    this.timer.unref();
  }

  /** Run a pass now, or another one after the running pass. */
  run(): Promise<void> {
    if (this.ticking !== undefined) {
      this.tickAgain = true;
      return this.ticking;
    }
    const run = async (): Promise<void> => {
      let more = false;
      try {
        do {
          this.tickAgain = false;
          more = await this.pass();
        } while (this.tickAgain && !this.isStopped());
      } catch (error) {
        this.onError(error);
      } finally {
        this.ticking = undefined;
      }
      const requested = this.delayAfterPass;
      this.delayAfterPass = Infinity;
      if (!this.isStopped()) {
        const idleDelayMs = this.idleDelayMs();
        this.request(more ? 0 : Math.min(idleDelayMs, requested));
      }
    };
    this.ticking = run();
    return this.ticking;
  }

  /** Clear the pending timer (shutdown); a running pass is not interrupted. */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
