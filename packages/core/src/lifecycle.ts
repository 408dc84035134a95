import { LcError } from './lc-error.js';

/**
 * Wrap an async function so that only the first call runs it; every call
 * (including later ones) returns that first call's promise. The basis of
 * idempotent `shutdown()`.
 */
export function once<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  let result: Promise<R> | undefined;
  return (...args: A) => {
    result ??= fn(...args);
    return result;
  };
}

/** Options for {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** Also stop waiting when this signal aborts (rejects `LC_ERR_ABORTED`). */
  signal?: AbortSignal;
  /** What was being waited for, for the error message. */
  what?: string;
}

/**
 * Wait for `promise` at most `timeoutMs` milliseconds. Rejects with
 * `LcError` `LC_ERR_TIMEOUT` (or `LC_ERR_ABORTED` when `signal` aborts).
 * The underlying operation is not cancelled; pass it a signal for that.
 * The timer is cleared on settle and never keeps the process alive.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  options: WithTimeoutOptions = {},
): Promise<T> {
  const what = options.what ?? 'operation';
  return new Promise<T>((resolve, reject) => {
    const signal = options.signal;
    const onAbort = (): void => {
      cleanup();
      reject(
        new LcError({
          code: 'LC_ERR_ABORTED',
          message: `${what} aborted`,
          cause: signal?.reason,
        }),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new LcError({
          code: 'LC_ERR_TIMEOUT',
          message: `${what} timed out after ${timeoutMs} ms`,
          details: { timeoutMs },
        }),
      );
    }, timeoutMs);
    timer.unref();
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/**
 * Resolve after `ms` milliseconds, or reject `LC_ERR_ABORTED` as soon as
 * `signal` aborts. The timer is `unref()`'d.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new LcError({ code: 'LC_ERR_ABORTED', message: 'sleep aborted' }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new LcError({ code: 'LC_ERR_ABORTED', message: 'sleep aborted' }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
