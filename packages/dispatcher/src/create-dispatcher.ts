import { once, silentLogger, systemClock } from '@lc/core';
import type {
  BatchStore,
  Clock,
  LifecycleOptions,
  Logger,
  LogRecord,
} from '@lc/core';
import { Registry } from 'prom-client';
import type {
  Dispatcher,
  DispatcherShutdown,
  DispatcherStats,
} from './dispatcher.js';
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
import { IntakeFront, shutDownError } from './internal/intake-front.js';
import { circuitStates, createLanes } from './internal/lanes.js';
import type { Lane } from './internal/model.js';
import { recoverBatches } from './internal/recover-batches.js';
import { resolveOptions } from './internal/resolve-options.js';
import type { ResolvedOptions } from './internal/resolve-options.js';
import { waitToDrain } from './internal/wait-to-drain.js';
import { Settler } from './internal/settler.js';
import { routeStats } from './internal/route-stats.js';
import { sinkStats } from './internal/sink-stats.js';
import { WaiterList } from './internal/waiters.js';
import {
  createIntakeSpill,
  drainSpillToMemory,
} from './internal/intake-spill.js';
import { SPILL_SOURCE_KIND } from './internal/spill-setup.js';
import type { Spill } from './internal/spill.js';
import { WalCoordinator } from './internal/wal-coordinator.js';

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
  private readonly front: IntakeFront;
  /** Batch store recovery still running in the background (with a spill). */
  private recovery: Promise<void> | undefined;
  private readonly options: DispatcherOptions;
  /** `flush()` calls waiting for the spill: reloaded batches close at once. */
  private flushing = 0;
  private recoveredRecords = 0;
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
      circuit: circuitStates(this.lanes),
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
      if (this.waiters.size > 0) this.front.wake();
      if (this.spill !== undefined && this.spill.records > 0) this.spill.kick();
    };
    this.wal = new WalCoordinator(
      options.batchStore,
      o.persist,
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
    this.spill = createIntakeSpill({
      options: o,
      clock: this.clock,
      logger: this.logger,
      registry,
      onError: this.onError,
      metrics: this.metrics,
      tracker: this.tracker,
      admission: this.admission,
      drops: this.drops,
      memoryWritable: () => this.front.memoryWritable(),
      closeBatchesNow: () => this.flushing > 0 || this.front.closed,
      closeAll: () => this.batcher.closeAll(),
      waiters: this.waiters,
      wake: () => this.front.wake(),
    });
    this.front = new IntakeFront({
      clock: this.clock,
      budget: this.budget,
      admission: this.admission,
      drops: this.drops,
      metrics: this.metrics,
      waiters: this.waiters,
      retryQueueSize: () => this.engine.retryQueue.size,
      maxRetryQueue: o.maxRetryQueue,
      lanes: this.lanes,
      spillOptions: o.spill,
    });
    this.front.spill = this.spill;
  }

  // ---------------------------------------------------------------- intake

  dispatch(record: LogRecord): boolean {
    return this.front.dispatch(record);
  }

  dispatchMany(records: readonly LogRecord[]): boolean {
    return this.front.dispatchMany(records);
  }

  whenWritable(options?: LifecycleOptions): Promise<void> {
    return this.front.whenWritable(options);
  }

  // ------------------------------------------------------------ lifecycle

  start = once(async (): Promise<void> => {
    // Open the spill first: a durable one delivers what a previous process
    // left after the WAL's batches, a non-durable one discards it.
    await this.spill?.open().catch(this.onError);
    const store = this.options.batchStore;
    if (store === undefined) return;
    this.front.recovering = true;
    const recovery = this.recover(store);
    // With a spill, new records wait there (in order, behind the recovered
    // batches) while recovery goes on: sources need not wait for a backlog
    // that a down sink may hold for long, while their files rotate away.
    if (this.spill === undefined) await recovery;
    else this.recovery = recovery.catch(this.onError);
  });

  /** Hand out the batch store's unsettled batches, as room frees. */
  private async recover(store: BatchStore): Promise<void> {
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
      this.front.recovering = false;
      if (this.waiters.size > 0) this.front.wake();
      this.spill?.kick();
    }
  }

  async flush(options?: LifecycleOptions): Promise<void> {
    await this.recovery;
    const spill = this.spill;
    if (spill !== undefined && spill.records > 0) {
      // What was spilled before the call must be back in memory first.
      this.flushing++;
      try {
        await drainSpillToMemory(
          spill,
          this.waiters,
          () => this.batcher.closeAll(),
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

  shutdown = once(async (): Promise<DispatcherShutdown> => {
    this.front.closed = true;
    this.waiters.rejectIntake(shutDownError());
    this.batcher.closeAll();
    this.spill?.kick();
    const summary = await waitToDrain({
      live: this.settler.liveBatches,
      spill: this.spill,
      budget: this.budget,
      waiters: this.waiters,
      clock: this.clock,
      timeoutMs: this.o.shutdownTimeoutMs,
      wake: () => this.front.wake(),
    });
    this.stopped = true;
    this.settler.stop();
    this.engine.stop(this.lanes.values());
    // Reported by the caller, in one line with the rest of the summary.
    this.drops.count('shutdown_timeout', summary.lostRecords, false);
    // Recovery stops waiting for room; pending flushes fail.
    this.front.wake();
    this.waiters.rejectAll(shutDownError());
    this.tracker.flush();
    this.tracker.commitAll();
    await this.wal.flush().catch(this.onError);
    await this.spill?.shutdown().catch(this.onError);
    if (this.o.shutdownSinks) {
      const results = await Promise.allSettled(
        [...this.lanes.values()].map((l) => l.sink.shutdown()),
      );
      for (const r of results)
        if (r.status === 'rejected') this.onError(r.reason);
    }
    this.metrics.close();
    return summary;
  });

  stats(): DispatcherStats {
    return {
      queuedRecords: this.budget.held,
      queuedBytes: this.budget.heldBytes,
      writable: this.front.isWritable(),
      liveBatches: this.settler.liveBatches.size,
      retryQueueSize: this.engine.retryQueue.size,
      retries: this.engine.retries,
      dropped: this.drops.snapshot(),
      backpressureMs: this.budget.backpressureMsAt(this.clock.monotonicNow()),
      recoveredRecords: this.recoveredRecords,
      spilledRecords: this.spill?.records ?? 0,
      spilledBytes: this.spill?.bytes ?? 0,
      spilledTotal: this.spill?.spilledTotal ?? 0,
      spilledOldestAtMs: this.spill?.oldestAtMs(),
      sinks: sinkStats(
        this.lanes.values(),
        this.settler.liveBatches.values(),
        this.clock,
      ),
      routes: routeStats(
        this.options.routes ?? [],
        this.batcher.defaultGroup.lanes,
        this.lanes,
      ),
    };
  }
}
