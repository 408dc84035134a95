/** At most one warning of a kind per sink this often, ms. */
export const SINK_LOG_EVERY_MS = 10_000;

/** When a kind of warning was last logged for a sink, and how much was held back since. */
export interface LogSlot {
  atMs: number;
  suppressed: number;
}

/**
 * Rate-limit a warning: at most one per {@link SINK_LOG_EVERY_MS}. Returns
 * how much was held back since the last line when this one may be logged
 * (and resets the slot), or `undefined` after adding `n` to the held back.
 */
export function takeLogSlot(
  slot: LogSlot,
  nowMs: number,
  n = 1,
): number | undefined {
  if (nowMs - slot.atMs < SINK_LOG_EVERY_MS) {
    slot.suppressed += n;
    return undefined;
  }
  const suppressed = slot.suppressed;
  slot.atMs = nowMs;
  slot.suppressed = 0;
  return suppressed;
}
