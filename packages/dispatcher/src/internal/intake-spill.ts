import type { Clock, Logger, LogRecord, MetricsRegistry } from '@lc/core';
import type { AckTracker } from './ack-tracker.js';
import type { Admission } from './admission.js';
import type { DispatcherMetrics } from './dispatcher-metrics.js';
import type { DropCounter } from './drop-counter.js';
import type { ResolvedOptions } from './resolve-options.js';
import { Spill } from './spill.js';
import type { WaiterList } from './waiters.js';

/** What the intake's spill is wired to (see {@link createIntakeSpill}). */
export interface IntakeSpillParts {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: MetricsRegistry;
  readonly onError: (error: unknown) => void;
  readonly metrics: DispatcherMetrics;
  readonly tracker: AckTracker;
  readonly admission: Admission;
  readonly drops: DropCounter;
  /** The in-memory intake takes records now. */
  readonly memoryWritable: () => boolean;
  /** Reloaded records should close their batches at once (a flush or shutdown waits). */
  readonly closeBatchesNow: () => boolean;
  readonly closeAll: () => void;
  readonly waiters: WaiterList;
  readonly wake: () => void;
}

/** The intake's disk overflow, or `undefined` when `spill` is off. */
export function createIntakeSpill(p: IntakeSpillParts): Spill | undefined {
  const spill = p.options.spill;
  if (spill === undefined) return undefined;
  return new Spill({
    ...spill,
    name: p.options.name,
    clock: p.clock,
    logger: p.logger,
    registry: p.registry,
    onError: p.onError,
    memoryHasRoom: p.memoryWritable,
    admit: (record, ack) => p.admission.accept(record, ack),
    track: (record: LogRecord) => p.tracker.track(record, 1),
    settle: (items) => {
      for (const item of items) p.tracker.settle(item);
      p.tracker.flush();
    },
    onDropped: (records) => p.drops.count('spill_full', records),
    afterReload: () => {
      if (p.closeBatchesNow()) p.closeAll();
      if (p.waiters.size > 0) p.wake();
    },
    onSpilled: (records, bytes) => p.metrics.spilled(records, bytes),
    onLost: (records) => p.drops.count('spill_lost', records),
  });
}

/**
 * Resolve once everything spilled so far (and what a previous process left
 * in a durable spill) is back in memory, dropped or lost.
 */
export async function drainSpillToMemory(
  spill: Spill,
  waiters: WaiterList,
  closeAll: () => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const target = spill.spilledTotal + spill.recoveredTotal;
  closeAll();
  spill.kick();
  await waiters.wait(
    () => spill.admittedTotal + spill.lostTotal + spill.droppedTotal >= target,
    signal,
  );
}
