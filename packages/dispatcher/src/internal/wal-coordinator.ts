import { toLcError } from '@lc/core';
import type { BatchStore, LcError } from '@lc/core';
import type { Batch, Delivery } from './model.js';

/**
 * Between the batcher and the lanes when a batch store (WAL) is configured:
 * each batch is persisted before its first attempt, batches are persisted
 * concurrently but handed out in the order they closed (so per-stream order
 * holds), and the outcome per sink is marked. Without a store, batches go
 * straight through and marks are no-ops.
 */
export class WalCoordinator {
  private readonly store: BatchStore | undefined;
  private readonly handOut: (batch: Batch) => void;
  private readonly onError: (error: unknown) => void;
  private readonly queue: Array<{ batch: Batch; done: boolean }> = [];

  constructor(
    store: BatchStore | undefined,
    handOut: (batch: Batch) => void,
    onError: (error: unknown) => void,
  ) {
    this.store = store;
    this.handOut = handOut;
    this.onError = onError;
  }

  /** Persist `batch` (when there is a store), then hand it out in order. */
  submit(batch: Batch): void {
    const store = this.store;
    if (store === undefined) {
      this.handOut(batch);
      return;
    }
    const slot = { batch, done: false };
    this.queue.push(slot);
    store
      .persist({
        id: batch.id,
        records: batch.records,
        sinks: batch.lanes.map((l) => l.name),
        createdAtMs: batch.createdAtMs,
      })
      .then(
        () => {
          batch.durable = true;
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

  /** `d` failed and will be retried (its own sink only, not a fallback). */
  markFailed(d: Delivery, error: LcError): void {
    if (d.batch.durable && d.target === d.lane) {
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
