import { LcError } from '@lc/core';
import type { Clock, LifecycleOptions, LogRecord } from '@lc/core';
import type { Admission } from './admission.js';
import type { DispatcherMetrics } from './dispatcher-metrics.js';
import type { DropCounter } from './drop-counter.js';
import type { IntakeBudget } from './intake-budget.js';
import type { Lane } from './model.js';
import type { ResolvedSpill } from './resolve-options.js';
import { createSpillTrigger } from './spill-trigger.js';
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
  /** The sinks' lanes (their circuits trigger the spill). */
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly spillOptions: ResolvedSpill | undefined;
}

// While sources wait for room and the spill is not triggered, how often the
// trigger is looked at again (a file may rotate away meanwhile).
const TRIGGER_RECHECK_MS = 1_000;

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
  private recheck: ReturnType<Clock['setTimeout']> | undefined;
  /** The spill trigger, asked at most once per dispatch call. */
  private triggeredInCall: boolean | undefined;

  /**
   * Whether a full intake spills (the spill protects something now) rather
   * than pausing the sources; see `SpillOptions.trigger`.
   */
  private readonly spillTriggered: () => boolean;

  constructor(parts: IntakeFrontParts) {
    this.p = parts;
    this.spillTriggered = createSpillTrigger(
      parts.spillOptions,
      parts.retryQueueSize,
      parts.lanes,
    );
  }

  dispatch(record: LogRecord): boolean {
    if (this.closed) {
      this.p.drops.count('shut_down', 1);
      return false;
    }
    this.triggeredInCall = undefined;
    this.put(record);
    return this.writableNow();
  }

  dispatchMany(records: readonly LogRecord[]): boolean {
    if (this.closed) {
      this.p.drops.count('shut_down', records.length);
      return false;
    }
    const spill = this.spill;
    if (spill === undefined) {
      const admission = this.p.admission;
      for (let i = 0; i < records.length; i++)
        admission.accept(records[i] as LogRecord);
    } else {
      this.triggeredInCall = undefined;
      // Once one record is spilled, the rest follow it (order).
      for (let i = 0; i < records.length; i++)
        this.put(records[i] as LogRecord);
    }
    return this.writableNow();
  }

  whenWritable(options?: LifecycleOptions): Promise<void> {
    if (this.closed) return Promise.reject(shutDownError());
    if (this.isWritable()) return Promise.resolve();
    const wait = this.p.waiters.wait(
      () => this.isWritable(),
      options?.signal,
      true,
    );
    this.scheduleRecheck();
    return wait;
  }

  isWritable(): boolean {
    if (this.closed) return false;
    const spill = this.spill;
    if (spill === undefined) return this.memoryWritable();
    // A new record goes to memory only when the spill is empty.
    if (spill.records === 0 && this.memoryWritable()) return true;
    return this.spillTriggered() && spill.hasRoom();
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
    // Not triggered, a full memory takes the overshoot of the current call
    // (at most one dispatchMany) and the source pauses, as without a spill.
    if (
      spill !== undefined &&
      (spill.records > 0 ||
        (!this.memoryWritable() &&
          (this.triggeredInCall ??= this.spillTriggered())))
    )
      spill.add(record);
    else this.p.admission.accept(record);
  }

  /**
   * While intake waiters exist and the spill may take records once
   * triggered, wake them about once a second: the trigger (a rotated file,
   * a failing sink) can change without any batch settling.
   */
  private scheduleRecheck(): void {
    if (this.spill === undefined || this.recheck !== undefined) return;
    const { clock, waiters } = this.p;
    const timer = clock.setTimeout(() => {
      this.recheck = undefined;
      if (this.closed || waiters.size === 0) return;
      this.wake();
      if (waiters.size > 0) this.scheduleRecheck();
    }, TRIGGER_RECHECK_MS);
    timer.unref();
    this.recheck = timer;
  }

  private writableNow(): boolean {
    if (this.isWritable()) return true;
    this.p.budget.pause(this.p.clock.monotonicNow());
    return false;
  }
}
