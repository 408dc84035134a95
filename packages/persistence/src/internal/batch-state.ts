import type { PendingBatchInfo } from '@lc/core';
import type { WalEvent } from './wal-entry.js';

/** In-memory metadata of one unsettled batch (never its records). */
export interface BatchState {
  readonly id: string;
  /** Sequence of the batch entry in the WAL. */
  readonly seq: number;
  readonly sinks: readonly string[];
  /** Sinks with neither a delivered nor a dead-lettered outcome. */
  readonly pending: Set<string>;
  /**
   * Sinks whose final outcome (delivered, dead-lettered) is being written:
   * no longer pending, but the batch cannot settle until it is durable.
   */
  readonly settling: Set<string>;
  /** Failed attempts reported per sink. */
  readonly attempts: Record<string, number>;
  /** First failure time per sink, ms since the epoch. */
  readonly firstFailureAtMs: Map<string, number>;
  readonly records: number;
  /** Size of the WAL entry, bytes. */
  readonly bytes: number;
  readonly createdAtMs: number;
  nextAttemptAtMs?: number;
  lastError?: { readonly code: string; readonly message: string };
  /** WAL sequences of this batch's event entries. */
  readonly eventSeqs: number[];
  settled: boolean;
  /** Sinks handed back to the store: due time of the next offer. */
  readonly parked: Map<string, number>;
  /** Offers made by the recovery loop, per sink. */
  readonly recoveries: Map<string, number>;
}

/** A fresh state for a batch entry. */
export function newBatchState(init: {
  id: string;
  seq: number;
  sinks: readonly string[];
  records: number;
  bytes: number;
  createdAtMs: number;
}): BatchState {
  return {
    ...init,
    pending: new Set(init.sinks),
    settling: new Set(),
    attempts: {},
    firstFailureAtMs: new Map(),
    eventSeqs: [],
    settled: false,
    parked: new Map(),
    recoveries: new Map(),
  };
}

/** The admin view of a state. */
export function toPendingInfo(st: BatchState): PendingBatchInfo {
  let next = st.nextAttemptAtMs;
  for (const due of st.parked.values())
    next = next === undefined ? due : Math.min(next, due);
  const info: {
    -readonly [K in keyof PendingBatchInfo]: PendingBatchInfo[K];
  } = {
    id: st.id,
    pendingSinks: [...st.pending, ...st.settling],
    attempts: { ...st.attempts },
    records: st.records,
    bytes: st.bytes,
    createdAtMs: st.createdAtMs,
  };
  if (next !== undefined) info.nextAttemptAtMs = next;
  if (st.lastError !== undefined) info.lastError = st.lastError;
  return info;
}

/** Apply an event (read back or just written) to a batch's state. */
export function applyWalEvent(st: BatchState, event: WalEvent): void {
  if (event.kind === 'failed') {
    st.attempts[event.sink] = Math.max(
      st.attempts[event.sink] ?? 0,
      event.attempt,
    );
    if (!st.firstFailureAtMs.has(event.sink))
      st.firstFailureAtMs.set(event.sink, event.atMs);
    if (event.error !== undefined) st.lastError = event.error;
    st.nextAttemptAtMs = event.nextAttemptAtMs;
  } else {
    st.pending.delete(event.sink);
  }
}
