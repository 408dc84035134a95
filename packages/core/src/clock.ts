/** Handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  /** Do not keep the process alive for this timer. */
  unref(): unknown;
}

/**
 * Time and timers, injectable so tests can run on a fake clock
 * (`createFakeClock()` from `@lc/core/testing`).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock). */
  now(): number;
  /** Monotonic milliseconds for measuring durations. */
  monotonicNow(): number;
  /** Schedule `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer returned by `setTimeout`; a no-op for fired timers. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now`, `performance.now` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicNow: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
