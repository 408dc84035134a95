import { LcError, toLcError } from '@lc/core';
import type {
  Clock,
  DeadLetterEntry,
  DeadLetterStore,
  Logger,
  LogRecord,
} from '@lc/core';
import type { AckItem, AckTracker } from './ack-tracker.js';
import { backoffDelayMs } from './backoff.js';
import type { DispatcherMetrics } from './dispatcher-metrics.js';
import type { DropCounter } from './drop-counter.js';
import { recordBytes } from './intake-budget.js';
import type { IntakeBudget } from './intake-budget.js';
import { takeLogSlot } from './log-slot.js';
import type { Batch, Delivery } from './model.js';
import type { WalCoordinator } from './wal-coordinator.js';

/** What a {@link Settler} needs. */
export interface SettlerSetup {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onError: (error: unknown) => void;
  readonly metrics: DispatcherMetrics;
  /** Commits the watermark of live sources. */
  readonly tracker: AckTracker;
  /** Orders recovered records without committing them. */
  readonly recoveredTracker: AckTracker;
  readonly budget: IntakeBudget;
  readonly wal: WalCoordinator;
  readonly deadLetters: DeadLetterStore | undefined;
  readonly drops: DropCounter;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly random: () => number;
  /** Release `d`'s streams on its lane (and let the lane go on). */
  readonly unlock: (d: Delivery) => void;
  /** Schedule `d` at `d.nextAttemptAtMs` (a failed dead-letter write). */
  readonly retryLater: (d: Delivery) => void;
  /** Take `d` out of the retry queue. */
  readonly cancelRetry: (d: Delivery) => void;
  /** Records or batches settled: waiters may proceed. */
  readonly onRoom: () => void;
}

/**
 * Settles deliveries: records delivered or dead-lettered are released from
 * the intake budget and acknowledged to the ack tracker (whose ordered
 * watermark goes to the committer); a batch is done when every sink it is
 * routed to is. Owns the live batches and `drop_oldest` eviction.
 */
export class Settler {
  /** Batches not settled for every sink yet, by seq (closing order). */
  readonly liveBatches = new Map<number, Batch>();
  private readonly s: SettlerSetup;
  private readonly evicting = new WeakMap<
    Batch,
    { records: number; bytes: number }
  >();
  private stopped = false;

  constructor(setup: SettlerSetup) {
    this.s = setup;
  }

  /** Nothing is written after this (a pending dead-letter retry gives up). */
  stop(): void {
    this.stopped = true;
  }

  /** Records `ks` of `d` (all when `undefined`) reached `d.target`. */
  delivered(d: Delivery, ks: readonly number[] | undefined): void {
    const n = ks === undefined ? d.records.length : ks.length;
    let freed = false;
    for (let j = 0; j < n; j++) {
      const k = ks === undefined ? j : (ks[j] as number);
      if (this.settleIndex(d.batch, indexOf(d, k))) freed = true;
    }
    this.flushAcks(d.batch);
    // Once per call, not per record: waiters see all the room at once.
    if (freed) this.s.onRoom();
    d.target.metrics.recordsSent.inc(n);
    d.lane.delivered += n;
    if (d.target !== d.lane)
      this.s.metrics.fallback(d.lane.name, d.target.name, n);
  }

  /** `d` is over for its sink: dead-letter what failed, then done. */
  finalize(d: Delivery): void {
    this.s.unlock(d);
    if (d.dlqIndexes.length > 0) {
      d.state = 'dead-letter';
      void this.writeDeadLetters(d);
      return;
    }
    this.s.wal.markDelivered(d);
    this.done(d);
  }

  /** Add every remaining record of `d` to its dead letters with `error`. */
  failAll(d: Delivery, error: LcError): void {
    for (let k = 0; k < d.records.length; k++) {
      d.dlqIndexes.push(indexOf(d, k));
      d.dlqErrors.push(error);
    }
  }

  /** Write `d`'s dead letters; on failure, retry later (never lose them). */
  async writeDeadLetters(d: Delivery): Promise<void> {
    const s = this.s;
    const batch = d.batch;
    const n = d.dlqIndexes.length;
    const last = d.dlqErrors[n - 1] as LcError;
    try {
      if (s.wal.holds(batch)) {
        await s.wal.deadLetter(d, last);
      } else if (s.deadLetters !== undefined) {
        await s.deadLetters.add(this.entries(d));
      } else {
        s.drops.count('no_dead_letter_store', n, false);
        this.logDropped(d, last);
      }
    } catch (error) {
      if (this.stopped) return;
      s.onError(
        toLcError(error, 'LC_ERR_DLQ', 'dead-letter write failed; will retry'),
      );
      d.attempts++;
      d.nextAttemptAtMs =
        s.clock.now() +
        backoffDelayMs(
          d.attempts,
          s.retryBaseMs,
          s.retryMaxMs,
          undefined,
          s.random,
        );
      s.retryLater(d);
      return;
    }
    const byCode = new Map<string, number>();
    for (const e of d.dlqErrors)
      byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
    for (const [code, count] of byCode)
      s.metrics.deadLettered(d.lane.name, code, count);
    d.lane.deadLettered += n;
    let freed = false;
    for (const i of d.dlqIndexes) if (this.settleIndex(batch, i)) freed = true;
    this.flushAcks(batch);
    if (freed) this.s.onRoom();
    this.done(d);
  }

  /** drop_oldest: dead-letter the oldest batch that is not being written. */
  evictOldest(): boolean {
    for (const batch of this.liveBatches.values()) {
      if (batch.inflight > 0 || batch.deliveries.length === 0) continue;
      if (batch.deliveries.some((d) => d.state === 'dead-letter')) continue;
      const error = new LcError({
        code: 'LC_ERR_QUEUE_FULL',
        message:
          'intake over budget: oldest batch evicted (dropPolicy drop_oldest)',
      });
      let evicted = 0;
      for (const d of batch.deliveries) {
        if (d.state !== 'waiting' && d.state !== 'retry') continue;
        this.s.cancelRetry(d);
        this.failAll(d, error);
        evicted += d.records.length;
        this.finalize(d);
      }
      if (evicted === 0) continue;
      let bytes = 0;
      for (const r of batch.records) bytes += recordBytes(r);
      if (batch.lanesLeft > 0) {
        this.evicting.set(batch, { records: batch.records.length, bytes });
        this.s.budget.evictingRecords += batch.records.length;
        this.s.budget.evictingBytes += bytes;
      }
      this.s.drops.count('drop_oldest', evicted);
      return true;
    }
    return false;
  }

  /**
   * `d`'s failed records are dropped for want of a dead-letter store: say so
   * at error, with the last cause and after how many attempts, at most once
   * per 10 s per sink (the records held back counted in the next line). A
   * dead-letter store logs what it keeps.
   */
  private logDropped(d: Delivery, last: LcError): void {
    const n = d.dlqIndexes.length;
    const suppressed = takeLogSlot(d.lane.dropLog, this.s.clock.now(), n);
    if (suppressed === undefined) return;
    const attempts = Math.max(1, d.attempts);
    this.s.logger.error(
      {
        sink: d.lane.name,
        records: n,
        code: last.code,
        cause: last.message,
        attempts,
        ...(suppressed > 0 ? { alsoSinceLastLog: suppressed } : {}),
      },
      `sink ${d.lane.name}: ${n} record${n === 1 ? '' : 's'} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${last.message}); dropped: no dead-letter store is configured`,
    );
  }

  private entries(d: Delivery): Omit<DeadLetterEntry, 'id'>[] {
    const now = this.s.clock.now();
    return d.dlqIndexes.map((i, j) => {
      const error = d.dlqErrors[j] as LcError;
      const status = error.details.status;
      return {
        record: d.batch.records[i] as LogRecord,
        sink: d.lane.name,
        reason: {
          code: error.code,
          message: error.message,
          ...(typeof status === 'number' || typeof status === 'string'
            ? { status }
            : {}),
        },
        attempts: Math.max(1, d.attempts),
        firstFailureAtMs: d.firstFailureAtMs === 0 ? now : d.firstFailureAtMs,
        lastFailureAtMs: now,
      };
    });
  }

  /**
   * Settle record `i` of `batch` for one sink; true when that was its last
   * sink (its room in the intake is freed: the caller calls `onRoom` once).
   */
  private settleIndex(batch: Batch, i: number): boolean {
    const tracker = batch.recovered ? this.s.recoveredTracker : this.s.tracker;
    if (!tracker.settle(batch.acks[i] as AckItem)) return false;
    this.s.budget.held--;
    this.s.budget.heldBytes -= recordBytes(batch.records[i] as LogRecord);
    return true;
  }

  private flushAcks(batch: Batch): void {
    (batch.recovered ? this.s.recoveredTracker : this.s.tracker).flush();
  }

  private done(d: Delivery): void {
    d.state = 'done';
    const batch = d.batch;
    batch.lanesLeft--;
    if (batch.lanesLeft > 0) return;
    this.liveBatches.delete(batch.seq);
    const evicting = this.evicting.get(batch);
    if (evicting !== undefined) {
      this.s.budget.evictingRecords -= evicting.records;
      this.s.budget.evictingBytes -= evicting.bytes;
    }
    this.s.metrics.latencySeconds(
      (this.s.clock.monotonicNow() - batch.firstAcceptedMs) / 1000,
    );
    this.s.onRoom();
  }
}

/** The batch index of `d`'s record `k`. */
export function indexOf(d: Delivery, k: number): number {
  return d.indexes === undefined ? k : (d.indexes[k] as number);
}
