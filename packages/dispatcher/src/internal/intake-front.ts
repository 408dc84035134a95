import { LcError } from '@lc/core';
import type { Clock, LifecycleOptions, LogRecord } from '@lc/core';
import type { Admission } from './admission.js';
import type { DispatcherMetrics } from './dispatcher-metrics.js';
import type { DropCounter } from './drop-counter.js';
import type { IntakeBudget } from './intake-budget.js';
import type { Spill } from './spill.js';
import type { WaiterList } from './waiters.js';

export function shutDownError(): LcError {
  return new LcError({
    code: 'LC_ERR_SHUT_DOWN',
    message: 'dispatcher is shut down',
  });
}

export interface IntakeFrontParts {
  readonly clock: Clock;
  readonly budget: IntakeBudget;
  readonly admission: Admission;
  readonly drops: DropCounter;
  readonly metrics: DispatcherMetrics;
  readonly waiters: WaiterList;
  /** Deliveries waiting for a retry now, and the most allowed. */
  readonly retryQueueSize: () => number;
  readonly maxRetryQueue: number;
}

/**
 * Where `dispatch` puts a record: into memory (admission), or into the
 * spill once memory is full or the spill holds anything (order); and
 * whether the intake is writable, pausing and resuming the budget's
 * backpressure clock.
 */
export class IntakeFront {
  /** After shutdown: records are refused and counted `shut_down`. */
  closed = false;
  /** Recovered batches go first: memory takes no new records meanwhile. */
  recovering = false;
  spill: Spill | undefined;

  private readonly p: IntakeFrontParts;

  constructor(parts: IntakeFrontParts) {
    this.p = parts;
  }

  dispatch(record: LogRecord): boolean {
    if (this.closed) {
      this.p.drops.count('shut_down', 1);
      return false;
    }
    this.put(record);
    return this.writableNow();
  }

  dispatchMany(records: readonly LogRecord[]): boolean {
    if (this.closed) {
      this.p.drops.count('shut_down', records.length);
      return false;
    }
    // Once one record is spilled, the rest follow it (order).
    for (let i = 0; i < records.length; i++) this.put(records[i] as LogRecord);
    return this.writableNow();
  }

  whenWritable(options?: LifecycleOptions): Promise<void> {
    if (this.closed) return Promise.reject(shutDownError());
    if (this.isWritable()) return Promise.resolve();
    return this.p.waiters.wait(() => this.isWritable(), options?.signal, true);
  }

  isWritable(): boolean {
    if (this.closed) return false;
    const spill = this.spill;
    if (spill === undefined) return this.memoryWritable();
    // A new record goes to memory only when the spill is empty.
    return (spill.records === 0 && this.memoryWritable()) || spill.hasRoom();
  }

  /** The in-memory intake takes records (recovered batches go first). */
  memoryWritable(): boolean {
    return (
      !this.recovering &&
      this.p.budget.hasRoom() &&
      this.p.retryQueueSize() < this.p.maxRetryQueue
    );
  }

  /** Room may have freed: end a backpressure pause and wake waiters. */
  wake(): void {
    const { budget, clock } = this.p;
    if (budget.paused && this.isWritable()) {
      const ms = budget.resume(clock.monotonicNow()) as number;
      this.p.metrics.backpressureSeconds(ms / 1000);
    }
    this.p.waiters.wake();
  }

  private put(record: LogRecord): void {
    const spill = this.spill;
    if (spill !== undefined && (spill.records > 0 || !this.memoryWritable()))
      spill.add(record);
    else this.p.admission.accept(record);
  }

  private writableNow(): boolean {
    if (this.isWritable()) return true;
    this.p.budget.pause(this.p.clock.monotonicNow());
    return false;
  }
}
