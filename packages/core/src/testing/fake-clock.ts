import type { Clock, TimerHandle } from '../clock.js';

/** A manually advanced {@link Clock}. */
export interface FakeClock extends Clock {
  /** Move time forward, firing due timers in order. */
  advance(ms: number): void;
  /** Number of timers not yet fired or cleared. */
  readonly pendingTimers: number;
}

interface FakeTimer extends TimerHandle {
  at: number;
  seq: number;
  fn: () => void;
  cleared: boolean;
}

/** Create a fake clock starting at `startMs` (epoch ms). */
export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let now = startMs;
  let seq = 0;
  const timers: FakeTimer[] = [];
  return {
    now: () => now,
    monotonicNow: () => now - startMs,
    setTimeout(fn, ms) {
      const timer: FakeTimer = {
        at: now + Math.max(0, ms),
        seq: seq++,
        fn,
        cleared: false,
        unref: () => timer,
      };
      timers.push(timer);
      return timer;
    },
    clearTimeout(handle) {
      (handle as FakeTimer).cleared = true;
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let next: FakeTimer | undefined;
        for (const t of timers) {
          if (t.cleared || t.at > target) continue;
          if (
            next === undefined ||
            t.at < next.at ||
            (t.at === next.at && t.seq < next.seq)
          )
            next = t;
        }
        if (next === undefined) break;
        now = next.at;
        next.cleared = true;
        next.fn();
      }
      now = target;
      for (let i = timers.length - 1; i >= 0; i--) {
        if ((timers[i] as FakeTimer).cleared) timers.splice(i, 1);
      }
    },
    get pendingTimers() {
      return timers.filter((t) => !t.cleared).length;
    },
  };
}
