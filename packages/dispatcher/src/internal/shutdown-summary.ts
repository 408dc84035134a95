import type { Clock } from '@lc/core';
import type { DispatcherShutdown } from '../dispatcher.js';
import type { Batch } from './model.js';
import { owedBySink } from './sink-stats.js';

/**
 * What shutdown leaves: `heldRecords` accepted and unsettled (the intake
 * budget's count: in memory, in flight, in the batch store), `spilledRecords`
 * in the spill, and the sinks owing the live batches. Of the live batches'
 * unsettled records, those in the batch store are persisted; the rest are
 * only in memory, and lost when they have no cursor to be read again by.
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
  let lostRecords = 0;
  for (const b of batches) {
    for (const ack of b.acks) {
      // Settled for every sink already (a partial write, one sink of two).
      if (ack.remaining <= 0) continue;
      if (b.durable) persistedRecords++;
      else if (ack.cursor === undefined) lostRecords++;
    }
  }
  return {
    outcome,
    unsettledRecords: heldRecords + spilledRecords,
    persistedRecords,
    spilledRecords,
    inMemoryRecords: Math.max(0, heldRecords - persistedRecords),
    lostRecords,
    sinks: [...owedBySink(batches, clock).keys()].map((l) => l.name).sort(),
  };
}
