import { LcError } from '@lc/core';
import type { BatchStore, Clock, RecoveredBatch } from '@lc/core';
import type { AckTracker } from './ack-tracker.js';
import { recordBytes } from './intake-budget.js';
import type { IntakeBudget } from './intake-budget.js';
import type { Batch, Lane } from './model.js';

/** What {@link recoverBatches} needs. */
export interface RecoverySetup {
  readonly store: BatchStore;
  readonly clock: Clock;
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly budget: IntakeBudget;
  /** Orders recovered records; never commits (their cursors are stale). */
  readonly tracker: AckTracker;
  readonly takeSeq: () => number;
  /** Register a recovered batch as live and hand it to its lanes. */
  readonly start: (batch: Batch, attempts: RecoveredBatch['attempts']) => void;
  /** Resolves when the intake has room (or the dispatcher stopped). */
  readonly waitForRoom: () => Promise<void>;
  readonly stopped: () => boolean;
  /** `records` more were recovered (for stats). */
  readonly onRecovered: (records: number) => void;
}

/**
 * Queue the store's unsettled batches for their pending sinks, waiting for
 * room whenever the backlog exceeds the intake budget. A pending sink that
 * is not configured any more can never take its batch: it is dead-lettered
 * with `LC_ERR_CONFIG`.
 */
export async function recoverBatches(r: RecoverySetup): Promise<void> {
  for await (const rb of r.store.recover()) {
    const lanes: Lane[] = [];
    for (const name of rb.pendingSinks) {
      const lane = r.lanes.get(name);
      if (lane !== undefined) {
        lanes.push(lane);
        continue;
      }
      await r.store.deadLetter(
        rb.id,
        name,
        new LcError({
          code: 'LC_ERR_CONFIG',
          message: `recovered batch routed to sink "${name}", which is not configured any more`,
          details: { sink: name },
        }),
        { attempts: rb.attempts[name] ?? 0 },
      );
    }
    if (lanes.length === 0) continue;
    if (!r.budget.hasRoom()) await r.waitForRoom();
    if (r.stopped()) return;
    const acks = rb.records.map((rec) => r.tracker.track(rec, lanes.length));
    let bytes = 0;
    for (const rec of rb.records) bytes += recordBytes(rec);
    r.budget.held += rb.records.length;
    r.budget.heldBytes += bytes;
    r.onRecovered(rb.records.length);
    r.start(
      {
        id: rb.id,
        seq: r.takeSeq(),
        records: rb.records,
        acks,
        lanes,
        createdAtMs: rb.createdAtMs,
        firstAcceptedMs: r.clock.monotonicNow(),
        durable: true,
        lanesLeft: lanes.length,
        inflight: 0,
        recovered: true,
        deliveries: [],
      },
      rb.attempts,
    );
  }
}
