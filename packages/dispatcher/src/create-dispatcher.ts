import { LcError, once, silentLogger, systemClock } from '@lc/core';
import type { Clock, LifecycleOptions, Logger, LogRecord } from '@lc/core';
import { Registry } from 'prom-client';
import type { Dispatcher, DispatcherStats } from './dispatcher.js';
import type { DispatcherOptions } from './dispatcher-options.js';
import { createAckTracker } from './internal/ack-tracker.js';
import type { AckTracker } from './internal/ack-tracker.js';
import { Admission } from './internal/admission.js';
import { Batcher } from './internal/batcher.js';
import { DeliveryEngine } from './internal/delivery-engine.js';
import { createDispatcherMetrics } from './internal/dispatcher-metrics.js';
import type { DispatcherMetrics } from './internal/dispatcher-metrics.js';
import { DropCounter } from './internal/drop-counter.js';
import { IntakeBudget } from './internal/intake-budget.js';
import { createLanes, queuedOn } from './internal/lanes.js';
import type { Lane } from './internal/model.js';
import { recoverBatches } from './internal/recover-batches.js';
import { resolveOptions } from './internal/resolve-options.js';
import type { ResolvedOptions } from './internal/resolve-options.js';
import { Settler } from './internal/settler.js';
import { WaiterList } from './internal/waiters.js';
import { Spill, SPILL_SOURCE_KIND } from './internal/spill.js';
import { WalCoordinator } from './internal/wal-coordinator.js';

const CIRCUIT_GAUGE = { closed: 0, 'half-open': 1, open: 2 } as const;

function shutDownError(): LcError {
  return new LcError({
    code: 'LC_ERR_SHUT_DOWN',
    message: 'dispatcher is shut down',
  });
}

/**
 * Create a {@link Dispatcher}: the intake sources write to, and everything
 * between it and the sinks (batching, fan-out, WAL, retries, circuit
 * breaking, fallback, DLQ, acknowledgements).
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new DispatcherImpl(options);
}

/**
 * Wires the parts (see `internal/`) and owns the lifecycle: intake →
 * admission → batcher → WAL coordinator → delivery engine → settler → ack
 * tracker → committer.
 */
class DispatcherImpl implements Dispatcher {
  private readonly o: ResolvedOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onError: (error: unknown) => void;
  private readonly metrics: DispatcherMetrics;
  private readonly tracker: AckTracker;
  private readonly recoveredTracker: AckTracker;
  private readonly lanes: Map<string, Lane>;
  private readonly budget: IntakeBudget;
  private readonly waiters = new WaiterList();
  private readonly drops: DropCounter;
  private readonly wal: WalCoordinator;
  private readonly engine: DeliveryEngine;
  private readonly settler: Settler;
  private readonly batcher: Batcher;
  private readonly admission: Admission;
  private readonly spill: Spill | undefined;
  private readonly options: DispatcherOptions;
  /** `flush()` calls waiting for the spill: reloaded batches close at once. */
  private flushing = 0;
  private recovering = false;
  private recoveredRecords = 0;
  private closed = false;
  private stopped = false;

  constructor(options: DispatcherOptions) {
    const o = resolveOptions(options);
    this.o = o;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({
      component: 'dispatcher',
    });
    this.onError =
      options.onError ??
      ((error) =>
        this.logger.error({ err: error }, 'dispatcher background error'));
    this.budget = new IntakeBudget(o.maxQueueRecords, o.maxQueueBytes);
    const registry = options.registry ?? new Registry();
    this.metrics = createDispatcherMetrics(registry, o.name, () => ({
      queueRecords: this.budget.held,
      queueBytes: this.budget.heldBytes,
      queueUtilization: this.budget.utilization(),
      retryQueueSize: this.engine.retryQueue.size,
      spillRecords: this.spill?.records ?? 0,
      spillBytes: this.spill?.bytes ?? 0,
      circuit: [...this.lanes.values()].map((l) => ({
        sink: l.name,
        state: CIRCUIT_GAUGE[l.circuit.state],
      })),
    }));
    this.drops = new DropCounter(this.metrics, this.logger);
    const committer = options.committer;
    this.tracker = createAckTracker({
      // Acknowledgements of records read back from the spill go to the
      // spill (their positions were committed when they were spilled).
      committer: {
        commit: (source, cursor) => {
          if (source.kind === SPILL_SOURCE_KIND) this.spill?.committed(cursor);
          else committer?.commit(source, cursor);
        },
      },
      onError: this.onError,
    });
    this.recoveredTracker = createAckTracker({});
    const onRoom = (): void => {
      if (this.waiters.size > 0) this.wake();
      if (this.spill !== undefined && this.spill.records > 0) this.spill.kick();
    };
    this.wal = new WalCoordinator(
      options.batchStore,
      options.persist ?? 'always',
      (batch) => this.engine.handOut(batch),
      (acks) => {
        this.tracker.markSafe(acks);
        this.tracker.flush();
      },
      this.onError,
    );
    this.engine = new DeliveryEngine({
      clock: this.clock,
      logger: this.logger,
      onError: this.onError,
      metrics: this.metrics,
      wal: this.wal,
      sendTimeoutMs: o.sendTimeoutMs,
      retryBaseMs: o.retryBaseMs,
      retryMaxMs: o.retryMaxMs,
      maxAttempts: o.maxAttempts,
      maxAgeMs: o.maxAgeMs,
      random: o.random,
      onRoom,
    });
    this.settler = new Settler({
      clock: this.clock,
      logger: this.logger,
      onError: this.onError,
      metrics: this.metrics,
      tracker: this.tracker,
      recoveredTracker: this.recoveredTracker,
      budget: this.budget,
      wal: this.wal,
      deadLetters: options.deadLetters,
      drops: this.drops,
      retryBaseMs: o.retryBaseMs,
      retryMaxMs: o.retryMaxMs,
      random: o.random,
      unlock: (d) => this.engine.unlock(d),
      retryLater: (d) => this.engine.pushRetry(d),
      cancelRetry: (d) => this.engine.retryQueue.cancel(d),
      onRoom,
    });
    this.engine.attach(this.settler);
    this.lanes = createLanes(options.sinks, {
      sinkOptions: options.sinkOptions ?? {},
      workers: o.workers,
      failureThreshold: o.failureThreshold,
      openMs: o.openMs,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      onHalfOpen: (lane) => this.engine.probe(lane),
      onClosed: (lane) => this.engine.recovered(lane),
      onOpened: (lane) => this.wal.laneDown(lane),
    });
    const fallbacks = new Set<string>();
    for (const so of Object.values(options.sinkOptions ?? {}))
      if (so.fallback !== undefined) fallbacks.add(so.fallback);
    const routes = options.routes ?? [];
    this.batcher = new Batcher({
      clock: this.clock,
      tracker: this.tracker,
      budget: this.budget,
      lanes: this.lanes,
      routes,
      defaultSinks:
        options.defaultSinks ??
        options.sinks.map((s) => s.name).filter((n) => !fallbacks.has(n)),
      batchMaxRecords: o.batchMaxRecords,
      batchMaxBytes: o.batchMaxBytes,
      batchTimeoutMs: o.batchTimeoutMs,
      sendWhenIdle: o.sendWhenIdle,
      onClosed: (batch) => {
        this.settler.liveBatches.set(batch.seq, batch);
        this.wal.submit(batch);
      },
    });
    this.admission = new Admission({
      options: o,
      clock: this.clock,
      tracker: this.tracker,
      budget: this.budget,
      batcher: this.batcher,
      drops: this.drops,
      evictOldest: () => this.settler.evictOldest(),
      routed: routes.length > 0,
    });
    this.spill =
      o.spill === undefined
        ? undefined
        : new Spill({
            ...o.spill,
            name: o.name,
            clock: this.clock,
            logger: this.logger,
            registry,
            onError: this.onError,
            memoryHasRoom: () => this.memoryWritable(),
            admit: (record, ack) => this.admission.accept(record, ack),
            track: (record) => this.tracker.track(record, 1),
            settle: (items) => {
              for (const item of items) this.tracker.settle(item);
              this.tracker.flush();
            },
            onDropped: (records) => this.drops.count('spill_full', records),
            afterReload: () => {
              if (this.flushing > 0 || this.closed) this.batcher.closeAll();
              if (this.waiters.size > 0) this.wake();
            },
            onSpilled: (records, bytes) => this.metrics.spilled(records, bytes),
            onLost: (records) => this.drops.count('spill_lost', records),
          });
  }

  // ---------------------------------------------------------------- intake

  dispatch(record: LogRecord): boolean {
    if (this.closed) {
      this.drops.count('shut_down', 1);
      return false;
    }
    const spill = this.spill;
    if (spill !== undefined && (spill.records > 0 || !this.memoryWritable()))
      spill.add(record);
    else this.admission.accept(record);
    return this.writableNow();
  }

  dispatchMany(records: readonly LogRecord[]): boolean {
    if (this.closed) {
      this.drops.count('shut_down', records.length);
      return false;
    }
    const spill = this.spill;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as LogRecord;
      // Once one record is spilled, the rest follow it (order).
      if (spill !== undefined && (spill.records > 0 || !this.memoryWritable()))
        spill.add(record);
      else this.admission.accept(record);
    }
    return this.writableNow();
  }

  whenWritable(options?: LifecycleOptions): Promise<void> {
    if (this.closed) return Promise.reject(shutDownError());
    if (this.isWritable()) return Promise.resolve();
    return this.waiters.wait(() => this.isWritable(), options?.signal, true);
  }

  private writableNow(): boolean {
    if (this.isWritable()) return true;
    this.budget.pause(this.clock.monotonicNow());
    return false;
  }

  private isWritable(): boolean {
    if (this.closed) return false;
    const spill = this.spill;
    if (spill === undefined) return this.memoryWritable();
    // A new record goes to memory only when the spill is empty.
    return (spill.records === 0 && this.memoryWritable()) || spill.hasRoom();
  }

  /** The in-memory intake takes records (recovered batches go first). */
  private memoryWritable(): boolean {
    return (
      !this.recovering &&
      this.budget.hasRoom() &&
      this.engine.retryQueue.size < this.o.maxRetryQueue
    );
  }

  private wake(): void {
    if (this.budget.paused && this.isWritable()) {
      const ms = this.budget.resume(this.clock.monotonicNow()) as number;
      this.metrics.backpressureSeconds(ms / 1000);
    }
    this.waiters.wake();
  }

  // ------------------------------------------------------------ lifecycle

  start = once(async (): Promise<void> => {
    // Open the spill first: it discards what a previous process left.
    await this.spill?.open().catch(this.onError);
    const store = this.options.batchStore;
    if (store === undefined) return;
    this.recovering = true;
    try {
      await recoverBatches({
        store,
        clock: this.clock,
        lanes: this.lanes,
        budget: this.budget,
        tracker: this.recoveredTracker,
        takeSeq: () => this.batcher.takeSeq(),
        start: (batch, attempts) => {
          this.settler.liveBatches.set(batch.seq, batch);
          this.engine.handOut(batch, attempts);
        },
        waitForRoom: () =>
          this.waiters.wait(() => this.budget.hasRoom() || this.stopped),
        stopped: () => this.stopped,
        onRecovered: (records) => {
          this.recoveredRecords += records;
        },
      });
    } finally {
      this.recovering = false;
      if (this.waiters.size > 0) this.wake();
      this.spill?.kick();
    }
  });

  async flush(options?: LifecycleOptions): Promise<void> {
    const spill = this.spill;
    if (spill !== undefined && spill.records > 0) {
      // Everything spilled before the call (and what a previous process
      // left in a durable spill) must be back in memory first.
      const target = spill.spilledTotal + spill.recoveredTotal;
      this.flushing++;
      try {
        this.batcher.closeAll();
        spill.kick();
        await this.waiters.wait(
          () =>
            spill.admittedTotal + spill.lostTotal + spill.droppedTotal >=
            target,
          options?.signal,
        );
      } finally {
        this.flushing--;
      }
    }
    this.batcher.closeAll();
    const target = this.batcher.nextSeq;
    const settled = (): boolean => {
      for (const seq of this.settler.liveBatches.keys()) return seq >= target;
      return true;
    };
    if (!settled()) await this.waiters.wait(settled, options?.signal);
    await this.wal.flush(options);
    await Promise.all(
      [...this.lanes.values()].map((l) => l.sink.flush(options)),
    );
  }

  shutdown = once(async (): Promise<void> => {
    this.closed = true;
    this.waiters.rejectIntake(shutDownError());
    this.batcher.closeAll();
    this.spill?.kick();
    const drained = (): boolean =>
      this.settler.liveBatches.size === 0 && (this.spill?.records ?? 0) === 0;
    if (!drained() && this.o.shutdownTimeoutMs > 0) {
      const ac = new AbortController();
      const timer = this.clock.setTimeout(
        () => ac.abort(),
        this.o.shutdownTimeoutMs,
      );
      timer.unref();
      await this.waiters.wait(drained, ac.signal).catch(() => undefined);
      this.clock.clearTimeout(timer);
    }
    const left = this.budget.held + (this.spill?.records ?? 0);
    this.stopped = true;
    this.settler.stop();
    this.engine.stop(this.lanes.values());
    if (left > 0) {
      this.logger.warn(
        { records: left, durable: this.options.batchStore !== undefined },
        'shutdown timed out: records left unsettled (not committed; kept in the batch store when there is one)',
      );
    }
    // Recovery stops waiting for room; pending flushes fail.
    this.wake();
    this.waiters.rejectAll(shutDownError());
    this.tracker.flush();
    this.tracker.commitAll();
    try {
      await this.wal.flush();
    } catch (error) {
      this.onError(error);
    }
    try {
      await this.spill?.shutdown();
    } catch (error) {
      this.onError(error);
    }
    if (this.o.shutdownSinks) {
      const results = await Promise.allSettled(
        [...this.lanes.values()].map((l) => l.sink.shutdown()),
      );
      for (const r of results)
        if (r.status === 'rejected') this.onError(r.reason);
    }
    this.metrics.close();
  });

  stats(): DispatcherStats {
    return {
      queuedRecords: this.budget.held,
      queuedBytes: this.budget.heldBytes,
      writable: this.isWritable(),
      liveBatches: this.settler.liveBatches.size,
      retryQueueSize: this.engine.retryQueue.size,
      retries: this.engine.retries,
      dropped: this.drops.snapshot(),
      backpressureMs: this.budget.backpressureMsAt(this.clock.monotonicNow()),
      recoveredRecords: this.recoveredRecords,
      spilledRecords: this.spill?.records ?? 0,
      spilledBytes: this.spill?.bytes ?? 0,
      spilledTotal: this.spill?.spilledTotal ?? 0,
      sinks: [...this.lanes.values()].map((l) => ({
        name: l.name,
        inflight: l.inflight,
        queued: queuedOn(l),
        circuit: l.circuit.state,
        delivered: l.delivered,
        deadLettered: l.deadLettered,
      })),
    };
  }
}
