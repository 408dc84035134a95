import { LcError } from '@lc/core';

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

/**
 * Promises waiting for a condition on the dispatcher's state (room in the
 * intake, batches settled). Re-checked on {@link WaiterList.wake}; no
 * timers or polling.
 */
export class WaiterList {
  private waiters: Waiter[] = [];

  get size(): number {
    return this.waiters.length;
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
        reject(abortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
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
  }

  /** Reject the intake waiters (`whenWritable`) with `error`. */
  rejectIntake(error: unknown): void {
    const intake = this.waiters.filter((w) => w.intake);
    this.waiters = this.waiters.filter((w) => !w.intake);
    for (const w of intake) w.reject(error);
  }

  /** Reject every waiter left with `error`. */
  rejectAll(error: unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}
