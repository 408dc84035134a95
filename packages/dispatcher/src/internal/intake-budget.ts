import type { LogRecord } from '@lc/core';

/** Estimated bytes of a record for the queue and batch budgets. */
export function recordBytes(record: LogRecord): number {
  return record.line.length + 64;
}

/**
 * What the intake holds (accepted, not settled) against its budget, and how
 * long it has refused records. Records of batches evicted by `drop_oldest`
 * stay held until their dead-letter write ends but no longer count against
 * the drop policy.
 */
export class IntakeBudget {
  held = 0;
  heldBytes = 0;
  evictingRecords = 0;
  evictingBytes = 0;
  /** Total time the intake refused records, ms (closed pauses only). */
  backpressureMs = 0;
  private pausedSinceMs: number | undefined;
  private readonly maxRecords: number;
  private readonly maxBytes: number;

  constructor(maxRecords: number, maxBytes: number) {
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
  }

  /** Below both bounds. */
  hasRoom(): boolean {
    return this.held < this.maxRecords && this.heldBytes < this.maxBytes;
  }

  /** At a bound, not counting records already being evicted. */
  overForDropPolicy(): boolean {
    return (
      this.held - this.evictingRecords >= this.maxRecords ||
      this.heldBytes - this.evictingBytes >= this.maxBytes
    );
  }

  /** Held over budget, the larger of records and bytes (0..1+). */
  utilization(): number {
    return Math.max(
      this.held / this.maxRecords,
      this.heldBytes / this.maxBytes,
    );
  }

  /** The intake started refusing records at `nowMs` (no-op when it already was). */
  pause(nowMs: number): void {
    this.pausedSinceMs ??= nowMs;
  }

  /** It accepts again: returns how long the pause lasted, ms, if there was one. */
  resume(nowMs: number): number | undefined {
    if (this.pausedSinceMs === undefined) return undefined;
    const ms = nowMs - this.pausedSinceMs;
    this.backpressureMs += ms;
    this.pausedSinceMs = undefined;
    return ms;
  }

  get paused(): boolean {
    return this.pausedSinceMs !== undefined;
  }

  /** Backpressure time including a pause still running, ms. */
  backpressureMsAt(nowMs: number): number {
    return (
      this.backpressureMs +
      (this.pausedSinceMs === undefined ? 0 : nowMs - this.pausedSinceMs)
    );
  }
}
