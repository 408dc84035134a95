/**
 * Exponential backoff with full jitter (AWS architecture blog): a uniform
 * delay in `[0, min(maxMs, baseMs * 2^(attempt-1))]`, never below the
 * sink's `retryAfterMs` hint. `attempt` is 1 for the first retry.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.floor(random() * exp);
  return retryAfterMs === undefined
    ? jittered
    : Math.max(jittered, retryAfterMs);
}
