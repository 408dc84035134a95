import type { Clock } from '@lc/core';
import type { DispatcherShutdown, SinkStats } from '../dispatcher.js';
import { queuedOn } from './lanes.js';
import type { Batch, Lane } from './model.js';

interface Owed {
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
 * What each sink still owes: the live batches with a delivery to it that is
 * not finished (waiting, in flight, retrying or being dead-lettered), their
 * records and the age of the oldest. A batch not handed to the lanes yet
 * (being written to the batch store) is owed by every sink it routes to.
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
      add(d.lane, d.indexes?.length ?? batch.records.length, age);
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
      unsettledBatches: o?.batches ?? 0,
      unsettledRecords: o?.records ?? 0,
      oldestUnsettledAgeMs: o?.oldestAgeMs ?? 0,
      delivered: l.delivered,
      deadLettered: l.deadLettered,
      lastError: l.lastError,
    };
  });
}

/**
 * What shutdown leaves: `heldRecords` in memory and the batch store (the
 * intake budget's count), `spilledRecords` in the spill, and the sinks
 * owing the live batches.
 */
export function shutdownSummary(
  outcome: DispatcherShutdown['outcome'],
  heldRecords: number,
  live: Iterable<Batch>,
  spilledRecords: number,
  clock: Clock,
): DispatcherShutdown {
  const batches = [...live];
  let persistedRecords = 0;
  for (const b of batches) if (b.durable) persistedRecords += b.records.length;
  return {
    outcome,
    unsettledRecords: heldRecords + spilledRecords,
    persistedRecords,
    spilledRecords,
    sinks: [...owedBySink(batches, clock).keys()].map((l) => l.name).sort(),
  };
}
