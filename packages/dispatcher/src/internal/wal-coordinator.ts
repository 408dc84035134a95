import { toLcError } from '@lc/core';
import type { BatchStore, LcError } from '@lc/core';
import type { AckItem } from './ack-tracker.js';
import type { Batch, Delivery, Lane } from './model.js';

/** When batches are written to the batch store (see `DispatcherOptions.persist`). */
export type PersistMode = 'always' | 'on_failure';

/**
 * Between the batcher and the lanes when a batch store (WAL) is configured.
 * `always`: each batch is persisted before its first attempt; batches are
 * persisted concurrently but handed out in the order they closed (so
 * per-stream order holds). `on_failure`: a batch is handed out at once and
 * persisted when a delivery of it fails and will be retried, or before its
 * first attempt while one of its sinks' circuits is not closed (an outage):
 * the WAL costs nothing while sinks are healthy. Either way a persisted
 * batch's records count as held for the position commit (`markSafe`), and
 * the outcome per sink is marked. Without a store, batches go straight
 * through and marks are no-ops.
 */
export class WalCoordinator {
  private readonly store: BatchStore | undefined;
  private readonly mode: PersistMode;
  private readonly handOut: (batch: Batch) => void;
  private readonly markSafe: (acks: readonly AckItem[]) => void;
  private readonly onError: (error: unknown) => void;
  private readonly queue: Array<{ batch: Batch; done: boolean }> = [];
  /** Batches being persisted late (`on_failure`), with failures to mark after. */
  private readonly late = new Map<Batch, Array<[Delivery, LcError]>>();

  constructor(
    store: BatchStore | undefined,
    mode: PersistMode,
    handOut: (batch: Batch) => void,
    markSafe: (acks: readonly AckItem[]) => void,
    onError: (error: unknown) => void,
  ) {
    this.store = store;
    this.mode = mode;
    this.handOut = handOut;
    this.markSafe = markSafe;
    this.onError = onError;
  }

  /** Persist `batch` (when there is a store and the mode asks), then hand it out in order. */
  submit(batch: Batch): void {
    const store = this.store;
    const now =
      store !== undefined &&
      (this.mode === 'always' ||
        batch.lanes.some((l) => l.circuit.state !== 'closed'));
    if (!now && this.queue.length === 0) {
      this.handOut(batch);
      return;
    }
    const slot = { batch, done: false };
    this.queue.push(slot);
    if (!now) {
      // Behind batches still being persisted: keep the order.
      slot.done = true;
      return;
    }
    (store as BatchStore)
      .persist({
        id: batch.id,
        records: batch.records,
        sinks: batch.lanes.map((l) => l.name),
        createdAtMs: batch.createdAtMs,
      })
      .then(
        () => {
          batch.durable = true;
          this.markSafe(batch.acks);
        },
        (error: unknown) => {
          // Still delivered; its records are simply not held by the WAL (the
          // source re-reads them after a crash since nothing is committed).
          this.onError(
            toLcError(error, 'LC_ERR_BUFFER_IO', 'batch store persist failed'),
          );
        },
      )
      .finally(() => {
        slot.done = true;
        while (
          this.queue.length > 0 &&
          (this.queue[0] as { done: boolean }).done
        ) {
          this.handOut((this.queue.shift() as { batch: Batch }).batch);
        }
      })
      .catch(this.onError);
  }

  /** `d`'s sink has all of its batch (durable batches only). */
  markDelivered(d: Delivery): void {
    if (d.batch.durable)
      this.store?.markDelivered(d.batch.id, d.lane.name).catch(this.onError);
  }

  /**
   * `lane`'s sink is down (its circuit opened): `on_failure` persists the
   * batches waiting for it now, as if each had failed (they would only be
   * attempted after the outage).
   */
  laneDown(lane: Lane): void {
    if (this.store === undefined || this.mode !== 'on_failure') return;
    const waiting = [...lane.ready, ...lane.queue.slice(lane.queueHead)].filter(
      (d): d is Delivery => d !== undefined && !d.batch.durable,
    );
    for (const d of waiting) this.persistLate(d.batch, undefined);
  }

  /**
   * `d` failed and will be retried (its own sink only, not a fallback).
   * `on_failure`: a batch not persisted yet is persisted now, for the sinks
   * that do not have it yet.
   */
  markFailed(d: Delivery, error: LcError): void {
    const batch = d.batch;
    if (this.store !== undefined && !batch.durable && !batch.recovered) {
      this.persistLate(batch, [d, error]);
      return;
    }
    if (batch.durable && d.target === d.lane) {
      this.store
        ?.markFailed(
          d.batch.id,
          d.lane.name,
          error,
          d.attempts,
          d.nextAttemptAtMs,
        )
        .catch(this.onError);
    }
  }

  /**
   * Persist `batch` now (`on_failure`), for the sinks that do not have it
   * yet; `failed`'s failure is marked once it is persisted.
   */
  private persistLate(
    batch: Batch,
    failed: [Delivery, LcError] | undefined,
  ): void {
    const store = this.store as BatchStore;
    const waiting = this.late.get(batch);
    if (waiting !== undefined) {
      if (failed !== undefined) waiting.push(failed);
      return;
    }
    this.late.set(batch, failed === undefined ? [] : [failed]);
    const sinks = batch.deliveries
      .filter((x) => x.state !== 'done')
      .map((x) => x.lane.name);
    store
      .persist({
        id: batch.id,
        records: batch.records,
        sinks: sinks.length > 0 ? sinks : batch.lanes.map((l) => l.name),
        createdAtMs: batch.createdAtMs,
      })
      .then(
        () => {
          batch.durable = true;
          this.markSafe(batch.acks);
          for (const [x, e] of this.late.get(batch) ?? [])
            if (x.state !== 'done') this.markFailed(x, e);
        },
        (err: unknown) =>
          this.onError(
            toLcError(err, 'LC_ERR_BUFFER_IO', 'batch store persist failed'),
          ),
      )
      .finally(() => this.late.delete(batch))
      .catch(this.onError);
  }

  /** Whether `batch` is in the WAL (dead letters then go through it). */
  holds(batch: Batch): boolean {
    return batch.durable && this.store !== undefined;
  }

  /** Dead-letter `d`'s failed records through the WAL; only when it {@link holds} the batch. */
  deadLetter(d: Delivery, error: LcError): Promise<void> {
    return (this.store as BatchStore).deadLetter(
      d.batch.id,
      d.lane.name,
      error,
      {
        indexes: d.dlqIndexes,
        attempts: Math.max(1, d.attempts),
      },
    );
  }

  /** Flush the store (a no-op without one). */
  async flush(options?: Parameters<BatchStore['flush']>[0]): Promise<void> {
    await this.store?.flush(options);
  }
}
