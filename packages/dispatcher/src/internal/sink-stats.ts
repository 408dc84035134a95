import type { Clock } from '@lc/core';
import type { SinkStats } from '../dispatcher.js';
import { queuedOn } from './lanes.js';
import type { Batch, Delivery, Lane } from './model.js';

/** What one sink still owes (see {@link owedBySink}). */
export interface Owed {
  batches: number;
  records: number;
  oldestAgeMs: number;
}

/** How long `batch`'s oldest record has waited, ms (across restarts for recovered ones). */
function ageMs(batch: Batch, clock: Clock): number {
  // A recovered batch's monotonic start is this process's; its creation
  // time, from the batch store, is when it was first closed.
  const age = batch.recovered
    ? clock.now() - batch.createdAtMs
    : clock.monotonicNow() - batch.firstAcceptedMs;
  return Math.max(0, age);
}

/**
 * Records of its batch `d` has not settled: those still to send (`indexes`,
 * all when undefined) and those waiting to be dead-lettered. Once it is
 * being dead-lettered only the latter are left (a partial write that
 * rejected the rest leaves `indexes` at what it was sent).
 */
function owedRecords(d: Delivery): number {
  if (d.state === 'dead-letter') return d.dlqIndexes.length;
  return (d.indexes?.length ?? d.batch.records.length) + d.dlqIndexes.length;
}

/**
 * What each sink still owes: the live batches with a delivery to it that is
 * not finished (waiting, in flight, retrying or being dead-lettered), their
 * records and the age of the oldest. A batch not handed to the lanes yet
 * (being written to the batch store) is owed by every sink it routes to.
 * A delivery diverted to a fallback is still owed by the sink it was routed
 * to.
 */
export function owedBySink(
  live: Iterable<Batch>,
  clock: Clock,
): Map<Lane, Owed> {
  const owed = new Map<Lane, Owed>();
  const add = (lane: Lane, records: number, age: number): void => {
    const o = owed.get(lane);
    if (o === undefined)
      owed.set(lane, { batches: 1, records, oldestAgeMs: age });
    else {
      o.batches++;
      o.records += records;
      o.oldestAgeMs = Math.max(o.oldestAgeMs, age);
    }
  };
  for (const batch of live) {
    const age = ageMs(batch, clock);
    if (batch.deliveries.length === 0) {
      for (const lane of batch.lanes) add(lane, batch.records.length, age);
      continue;
    }
    for (const d of batch.deliveries) {
      if (d.state === 'done') continue;
      add(d.lane, owedRecords(d), age);
    }
  }
  return owed;
}

/** One {@link SinkStats} per lane. */
export function sinkStats(
  lanes: Iterable<Lane>,
  live: Iterable<Batch>,
  clock: Clock,
): SinkStats[] {
  const owed = owedBySink(live, clock);
  return [...lanes].map((l) => {
    const o = owed.get(l);
    return {
      name: l.name,
      inflight: l.inflight,
      queued: queuedOn(l),
      circuit: l.circuit.state,
      state: l.circuit.state === 'closed' ? 'up' : 'down',
      fallback: l.fallback?.name,
      unsettledBatches: o?.batches ?? 0,
      unsettledRecords: o?.records ?? 0,
      oldestUnsettledAgeMs: o?.oldestAgeMs ?? 0,
      delivered: l.delivered,
      deadLettered: l.deadLettered,
      lastError: l.lastError,
    };
  });
}
