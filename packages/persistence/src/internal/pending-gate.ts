import { LcError } from '@lc/core';

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: LcError) => void;
  readonly cleanup: () => void;
}

/**
 * Admission control for pending batches: `acquire` waits (FIFO) while the
 * count or byte budget is used up, `release` frees room. A batch larger
 * than the whole byte budget is admitted once nothing else is pending, so
 * it cannot wait forever.
 */
export class PendingGate {
  private count = 0;
  private bytes = 0;
  private readonly waiters: Waiter[] = [];
  private readonly maxCount: number;
  private readonly maxBytes: number;

  constructor(maxCount: number, maxBytes: number) {
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
  }

  get pendingCount(): number {
    return this.count;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Callers waiting for room. */
  get waiting(): number {
    return this.waiters.length;
  }

  private fits(bytes: number): boolean {
    if (this.count === 0) return true;
    return this.count < this.maxCount && this.bytes + bytes <= this.maxBytes;
  }

  /** Take room without waiting (recovered batches are already on disk). */
  force(bytes: number): void {
    this.count++;
    this.bytes += bytes;
  }

  /** Wait for room for one batch of `bytes`, then take it. */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.force(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(aborted(signal));
        return;
      }
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(aborted(signal));
        this.drain();
      };
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Give back room taken by `acquire` or `force`. */
  release(bytes: number): void {
    this.count--;
    this.bytes -= bytes;
    this.drain();
  }

  /** Reject every waiter (shutdown). */
  rejectAll(error: LcError): void {
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.reject(error);
    }
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0] as Waiter;
      if (!this.fits(next.bytes)) return;
      this.waiters.shift();
      next.cleanup();
      this.force(next.bytes);
      next.resolve();
    }
  }
}

function aborted(signal: AbortSignal | undefined): LcError {
  return new LcError({
    code: 'LC_ERR_ABORTED',
    message: 'persist aborted while waiting for room in the batch WAL',
    cause: signal?.reason,
  });
}
