/**
 * "Full jitter" exponential backoff: a uniform delay in
 * `[0, min(maxMs, baseMs * 2^(attempt-1))]`, so retries of many batches
 * that failed together spread out instead of arriving in waves.
 * `attempt` counts from 1.
 */
export function fullJitterDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(
    maxMs,
    baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 52)),
  );
  return Math.floor(random() * exp);
}
