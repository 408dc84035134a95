import { LcError } from '@lc/core';

/**
 * Wait for `work` unless `signal` aborts first (`LC_ERR_ABORTED`) or,
 * with `timeoutMs`, that long passes (`LC_ERR_TIMEOUT`). The work itself
 * is not cancelled; a later rejection of it is swallowed.
 */
export async function withinDeadline<T>(
  sink: string,
  work: Promise<T>,
  signal: AbortSignal,
  timeoutMs: number | undefined,
  what: string,
): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted)
    throw new LcError({
      code: 'LC_ERR_ABORTED',
      message: `sink "${sink}": ${what} aborted`,
    });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          reject(
            new LcError({
              code: 'LC_ERR_TIMEOUT',
              message: `sink "${sink}": no ack within ${timeoutMs} ms`,
              details: { timeoutMs },
            }),
          ),
        timeoutMs,
      );
      timer.unref();
    }
    onAbort = () =>
      reject(
        new LcError({
          code: 'LC_ERR_ABORTED',
          message: `sink "${sink}": ${what} aborted`,
        }),
      );
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
