import type { Clock, Logger, TimerHandle } from '@lc/core';

/** Whether the store takes saves, as {@link FlushLoop.health} reports it. */
export interface StoreHealth {
  /** True while the last save attempt failed. */
  readonly failing: boolean;
  /** Wall-clock ms of the first failure of the current run of failures; 0 when healthy. */
  readonly failingSinceMs: number;
  /** Message of the last failure, while failing. */
  readonly lastError?: string;
  /** Failed attempts in a row. */
  readonly consecutiveFailures: number;
}

/** What a {@link FlushLoop} needs. */
export interface FlushLoopOptions {
  /** Longest a change waits for its save, ms; 0 = as soon as the previous save ended. */
  readonly delayMs: number;
  /** Save on its own; false = only `flush()` saves. */
  readonly auto: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Save every change made so far; rejects on a store error. */
  readonly save: () => Promise<void>;
  /** Background save failures (each one, rate-limited logging is done here). */
  readonly onError: (error: unknown) => void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
/** While the store keeps failing, `onError` hears of it once per this long. */
const FAILURE_LOG_EVERY_MS = 30_000;

interface Waiter {
  readonly seq: number;
  readonly resolve: (saved: boolean) => void;
}

/**
 * Group commit for the position manager: every change bumps a sequence
 * number and schedules a save; saves never overlap, and changes made
 * during one are saved by the next. `whenSaved` lets a caller wait until
 * what it changed went through a save attempt. A failing store is retried
 * with a capped exponential backoff, reported once per failure run (and
 * every 30 s while it lasts), and visible in `health()`.
 */
export class FlushLoop {
  private readonly o: FlushLoopOptions;
  private seq = 0;
  private savedSeq = 0;
  private running: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private waiters: Waiter[] = [];
  private stopped = false;
  private began = false;
  private failures = 0;
  private failingSinceMs = 0;
  private lastError: string | undefined;
  private lastReportAtMs = 0;

  constructor(options: FlushLoopOptions) {
    this.o = options;
  }

  /** Start saving on its own (changes made before are saved now). */
  begin(): void {
    this.began = true;
    if (this.o.auto && this.pending) this.schedule(this.o.delayMs);
  }

  /** A change was made: it will be saved (unless saves are manual). */
  changed(): void {
    this.seq++;
    if (this.o.auto && this.began && this.failures === 0)
      this.schedule(this.o.delayMs);
  }

  /** True when changes are waiting for a save. */
  get pending(): boolean {
    return this.seq > this.savedSeq;
  }

  /**
   * Resolves once every change made before this call went through a save
   * attempt: true when it is durable, false when that attempt failed (or
   * the loop stopped first).
   */
  whenSaved(): Promise<boolean> {
    if (this.savedSeq >= this.seq) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    if (this.failures > 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiters.push({ seq: this.seq, resolve });
    });
  }

  /** Save now (after a save in progress). Rejects with the store's error. */
  flush(): Promise<void> {
    this.cancelTimer();
    const run = (this.running ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.attempt());
    this.running = run;
    void run
      .catch(() => {})
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    return run;
  }

  health(): StoreHealth {
    return {
      failing: this.failures > 0,
      failingSinceMs: this.failingSinceMs,
      consecutiveFailures: this.failures,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** No more background saves; pending `whenSaved` callers get false. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer();
    for (const w of this.waiters.splice(0)) w.resolve(false);
  }

  private async attempt(): Promise<void> {
    const upTo = this.seq;
    if (upTo === this.savedSeq) return;
    try {
      await this.o.save();
    } catch (error) {
      this.failed(error, upTo);
      throw error;
    }
    this.savedSeq = Math.max(this.savedSeq, upTo);
    if (this.failures > 0) {
      this.o.logger.info(
        {
          failures: this.failures,
          failingForMs: this.o.clock.now() - this.failingSinceMs,
        },
        'position store writable again: positions saved',
      );
    }
    this.failures = 0;
    this.failingSinceMs = 0;
    this.lastError = undefined;
    this.settle(upTo, true);
    if (this.o.auto && !this.stopped && this.seq > this.savedSeq)
      this.schedule(this.o.delayMs);
  }

  private failed(error: unknown, upTo: number): void {
    const now = this.o.clock.now();
    if (this.failures === 0) this.failingSinceMs = now;
    this.failures++;
    this.lastError = error instanceof Error ? error.message : String(error);
    this.settle(upTo, false);
    if (
      this.failures === 1 ||
      now - this.lastReportAtMs >= FAILURE_LOG_EVERY_MS
    ) {
      this.lastReportAtMs = now;
      this.o.onError(error);
    }
    if (this.o.auto && !this.stopped) {
      const backoff = Math.min(
        RETRY_MAX_MS,
        RETRY_MIN_MS * 2 ** Math.min(16, this.failures - 1),
      );
      this.schedule(backoff);
    }
  }

  private settle(upTo: number, saved: boolean): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= upTo) w.resolve(saved);
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private schedule(delayMs: number): void {
    if (
      this.stopped ||
      this.timer !== undefined ||
      this.immediate !== undefined
    )
      return;
    const fire = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      // After a save in progress, if any (nothing to do is a cheap no-op).
      if (!this.stopped) this.flush().catch(() => {});
    };
    if (delayMs === 0) {
      this.immediate = setImmediate(fire);
      this.immediate.unref();
    } else {
      this.timer = this.o.clock.setTimeout(fire, delayMs);
      this.timer.unref();
    }
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
