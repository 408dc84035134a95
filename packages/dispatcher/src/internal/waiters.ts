import { LcError } from '@lc/core';
import type { Clock } from '@lc/core';

interface Waiter {
  /** Intake waiters reject when shutdown starts; others when it ends. */
  intake: boolean;
  ready: () => boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function abortedError(): LcError {
  return new LcError({ code: 'LC_ERR_ABORTED', message: 'wait aborted' });
}

// Longest delay setInterval accepts; the callback does nothing anyway.
const KEEP_ALIVE_MS = 2 ** 31 - 1;

/**
 * Promises waiting for a condition on the dispatcher's state (room in the
 * intake, batches settled). Re-checked on {@link WaiterList.wake}; no
 * polling.
 *
 * While anyone waits, one ref'd no-op interval keeps the process alive:
 * the dispatcher's own timers (batch, retry, circuit) are unref'd, so
 * without it a script awaiting `flush()` or `whenWritable()` while the only
 * pending work is a retry would see Node exit (code 13, unsettled top-level
 * await) instead of the retry.
 */
export class WaiterList {
  private waiters: Waiter[] = [];
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  get size(): number {
    return this.waiters.length;
  }

  /**
   * Resolve once `ready()` holds at a wake, or after `ms` (`clock`'s timer,
   * unref'd) without rejecting; at once when it already holds or `ms <= 0`.
   */
  async waitAtMost(
    ready: () => boolean,
    ms: number,
    clock: Clock,
  ): Promise<void> {
    if (ready() || ms <= 0) return;
    const ac = new AbortController();
    const timer = clock.setTimeout(() => ac.abort(), ms);
    timer.unref();
    await this.wait(ready, ac.signal).catch(() => undefined);
    clock.clearTimeout(timer);
  }

  /** Resolve once `ready()` holds at a wake; reject `LC_ERR_ABORTED` on abort. */
  wait(
    ready: () => boolean,
    signal?: AbortSignal,
    intake = false,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(abortedError());
        return;
      }
      const waiter: Waiter = {
        intake,
        ready,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.holdProcess();
        reject(abortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.holdProcess();
    });
  }

  /** Resolve every waiter whose condition holds now. */
  wake(): void {
    let kept: Waiter[] | undefined;
    for (const w of this.waiters) {
      if (w.ready()) w.resolve();
      else (kept ??= []).push(w);
    }
    this.waiters = kept ?? [];
    this.holdProcess();
  }

  /** Reject the intake waiters (`whenWritable`) with `error`. */
  rejectIntake(error: unknown): void {
    const intake = this.waiters.filter((w) => w.intake);
    this.waiters = this.waiters.filter((w) => !w.intake);
    this.holdProcess();
    for (const w of intake) w.reject(error);
  }

  /** Reject every waiter left with `error`. */
  rejectAll(error: unknown): void {
    const waiters = this.waiters.splice(0);
    this.holdProcess();
    for (const w of waiters) w.reject(error);
  }

  /** Hold the process while anyone waits, and only then. */
  private holdProcess(): void {
    if (this.waiters.length > 0) {
      this.keepAlive ??= setInterval(() => undefined, KEEP_ALIVE_MS);
    } else if (this.keepAlive !== undefined) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
