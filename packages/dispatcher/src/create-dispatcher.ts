import {
  LcError,
  labelsKey,
  once,
  silentLogger,
  systemClock,
  toLcError,
  WriteResults,
} from '@lc/core';
import type {
  BatchStore,
  Clock,
  DeadLetterEntry,
  DeadLetterStore,
  Labels,
  LifecycleOptions,
  Logger,
  LogRecord,
  TimerHandle,
  WriteResult,
} from '@lc/core';
import { Registry } from 'prom-client';
import type { Dispatcher, DispatcherStats } from './dispatcher.js';
import {
  DEFAULTS,
  nonNegative,
  positive,
  validateTopology,
} from './dispatcher-options.js';
import type { DispatcherOptions, RouteOptions } from './dispatcher-options.js';
import { createAckTracker } from './internal/ack-tracker.js';
import type { AckItem, AckTracker } from './internal/ack-tracker.js';
import { backoffDelayMs } from './internal/backoff.js';
import { CircuitBreaker } from './internal/circuit-breaker.js';
import { DedupCache } from './internal/dedup-cache.js';
import { createDispatcherMetrics } from './internal/dispatcher-metrics.js';
import type { DispatcherMetrics } from './internal/dispatcher-metrics.js';
import { RetryQueue } from './internal/retry-queue.js';
import type { Batch, Delivery, Lane } from './internal/model.js';
import { TokenBucket } from './internal/token-bucket.js';

/** Records going to the same set of sinks, filling one open batch. */
interface Group {
  readonly lanes: readonly Lane[];
  records: LogRecord[];
  acks: AckItem[];
  bytes: number;
  firstAcceptedMs: number;
  timer: TimerHandle | undefined;
}

interface Waiter {
  /** Intake waiters reject when shutdown starts; others when it ends. */
  intake: boolean;
  ready: () => boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const CIRCUIT_GAUGE = { closed: 0, 'half-open': 1, open: 2 } as const;
const streamKeys = new WeakMap<Labels, string>();

function streamKey(labels: Labels): string {
  let key = streamKeys.get(labels);
  if (key === undefined) {
    key = labelsKey(labels);
    streamKeys.set(labels, key);
  }
  return key;
}

function recordBytes(record: LogRecord): number {
  return record.line.length + 64;
}

function matches(route: RouteOptions, labels: Labels): boolean {
  for (const [key, want] of Object.entries(route.match)) {
    const value = labels[key];
    if (value === undefined) return false;
    if (typeof want === 'string' ? value !== want : !want.test(value))
      return false;
  }
  return true;
}

/**
 * Create a {@link Dispatcher}: the intake sources write to, and everything
 * between it and the sinks (batching, fan-out, WAL, retries, circuit
 * breaking, fallback, DLQ, acknowledgements).
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new DispatcherImpl(options);
}

class DispatcherImpl implements Dispatcher {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onError: (error: unknown) => void;
  private readonly metrics: DispatcherMetrics;
  private readonly tracker: AckTracker;
  private readonly recoveredTracker: AckTracker;
  private readonly lanes = new Map<string, Lane>();
  private readonly routes: readonly RouteOptions[];
  private readonly defaultGroup: Group;
  private readonly groups = new Map<string, Group>();
  private readonly groupByLabels = new WeakMap<Labels, Group>();
  private readonly batchStore: BatchStore | undefined;
  private readonly deadLetters: DeadLetterStore | undefined;
  private readonly maxQueueRecords: number;
  private readonly maxQueueBytes: number;
  private readonly dropPolicy: DispatcherOptions['dropPolicy'] & string;
  private readonly batchMaxRecords: number;
  private readonly batchMaxBytes: number;
  private readonly batchTimeoutMs: number;
  private readonly sendTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxAttempts: number;
  private readonly maxAgeMs: number;
  private readonly maxRetryQueue: number;
  private readonly shutdownTimeoutMs: number;
  private readonly shutdownSinks: boolean;
  private readonly random: () => number;
  private readonly dedup: DedupCache | undefined;
  private readonly rateLimit: DispatcherOptions['rateLimit'];
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly runId = Math.random().toString(36).slice(2, 10);

  /** No rate limit, dedup, drop policy or routes: the fast path. */
  private readonly plain: boolean;
  private held = 0;
  private heldBytes = 0;
  // Records of evicted batches whose dead-letter write is still running.
  private evictingRecords = 0;
  private evictingBytes = 0;
  private readonly evicting = new WeakMap<
    Batch,
    { records: number; bytes: number }
  >();
  private batchSeq = 0;
  private readonly liveBatches = new Map<number, Batch>();
  private readonly persistQueue: Array<{ batch: Batch; done: boolean }> = [];
  private readonly retryQueue: RetryQueue<Delivery>;
  private retries = 0;
  private waiters: Waiter[] = [];
  private readonly controllers = new Set<AbortController>();
  private readonly dropped: Record<string, number> = {};
  private pausedSinceMs: number | undefined;
  private backpressureMs = 0;
  private recovering = false;
  private recoveredRecords = 0;
  private closed = false;
  private stopped = false;

  constructor(options: DispatcherOptions) {
    validateTopology(options);
    this.clock = options.clock ?? systemClock;
    this.retryQueue = new RetryQueue(this.clock, (due) =>
      this.onRetriesDue(due),
    );
    this.logger = (options.logger ?? silentLogger).child({
      component: 'dispatcher',
    });
    this.onError =
      options.onError ??
      ((error) =>
        this.logger.error({ err: error }, 'dispatcher background error'));
    this.maxQueueRecords = positive(
      'maxQueueRecords',
      options.maxQueueRecords,
      DEFAULTS.maxQueueRecords,
    );
    this.maxQueueBytes = positive(
      'maxQueueBytes',
      options.maxQueueBytes,
      DEFAULTS.maxQueueBytes,
    );
    this.dropPolicy = options.dropPolicy ?? 'block';
    this.batchMaxRecords = positive(
      'batchMaxRecords',
      options.batchMaxRecords,
      DEFAULTS.batchMaxRecords,
    );
    this.batchMaxBytes = positive(
      'batchMaxBytes',
      options.batchMaxBytes,
      DEFAULTS.batchMaxBytes,
    );
    this.batchTimeoutMs = nonNegative(
      'batchTimeoutMs',
      options.batchTimeoutMs,
      DEFAULTS.batchTimeoutMs,
    );
    const workers = positive('workers', options.workers, DEFAULTS.workers);
    this.sendTimeoutMs = positive(
      'sendTimeoutMs',
      options.sendTimeoutMs,
      DEFAULTS.sendTimeoutMs,
    );
    const retry = options.retry ?? {};
    this.retryBaseMs = positive(
      'retry.baseDelayMs',
      retry.baseDelayMs,
      DEFAULTS.retryBaseDelayMs,
    );
    this.retryMaxMs = positive(
      'retry.maxDelayMs',
      retry.maxDelayMs,
      DEFAULTS.retryMaxDelayMs,
    );
    this.maxAttempts = positive(
      'retry.maxAttempts',
      retry.maxAttempts,
      Infinity,
      true,
    );
    this.maxAgeMs = positive('retry.maxAgeMs', retry.maxAgeMs, Infinity, true);
    this.maxRetryQueue = positive(
      'retry.maxQueueSize',
      retry.maxQueueSize,
      DEFAULTS.retryMaxQueueSize,
    );
    const circuit = options.circuit ?? {};
    const failureThreshold = nonNegative(
      'circuit.failureThreshold',
      circuit.failureThreshold,
      DEFAULTS.circuitFailureThreshold,
    );
    const openMs = positive(
      'circuit.openMs',
      circuit.openMs,
      DEFAULTS.circuitOpenMs,
    );
    this.shutdownTimeoutMs = nonNegative(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs,
      DEFAULTS.shutdownTimeoutMs,
    );
    this.shutdownSinks = options.shutdownSinks ?? true;
    this.random = options.random ?? Math.random;
    this.batchStore = options.batchStore;
    this.deadLetters = options.deadLetters;
    if (options.dedup !== undefined) {
      this.dedup = new DedupCache(
        positive('dedup.ttlMs', options.dedup.ttlMs, DEFAULTS.dedupTtlMs),
        positive(
          'dedup.maxEntries',
          options.dedup.maxEntries,
          DEFAULTS.dedupMaxEntries,
        ),
      );
    }
    this.rateLimit = options.rateLimit;

    const name = options.name ?? 'default';
    this.metrics = createDispatcherMetrics(
      options.registry ?? new Registry(),
      name,
      () => ({
        queueRecords: this.held,
        queueBytes: this.heldBytes,
        queueUtilization: Math.max(
          this.held / this.maxQueueRecords,
          this.heldBytes / this.maxQueueBytes,
        ),
        retryQueueSize: this.retryQueue.size,
        circuit: [...this.lanes.values()].map((l) => ({
          sink: l.name,
          state: CIRCUIT_GAUGE[l.circuit.state],
        })),
      }),
    );
    this.tracker = createAckTracker({
      committer: options.committer,
      onError: this.onError,
    });
    this.recoveredTracker = createAckTracker({});

    // Lanes: fallbacks first resolved by name after all exist.
    const sinkOptions = options.sinkOptions ?? {};
    const fallbacks = new Set<string>();
    for (const so of Object.values(sinkOptions))
      if (so.fallback !== undefined) fallbacks.add(so.fallback);
    const pending: Array<[Lane, string | undefined]> = [];
    for (const sink of options.sinks) {
      const so = sinkOptions[sink.name] ?? {};
      const lane: Lane = {
        sink,
        name: sink.name,
        ordered: (so.ordering ?? 'stream') === 'stream',
        workers: positive(
          `sinkOptions.${sink.name}.workers`,
          so.workers,
          workers,
        ),
        fallback: undefined,
        fallbackAfterMs: nonNegative(
          `sinkOptions.${sink.name}.fallbackAfterMs`,
          so.fallbackAfterMs,
          DEFAULTS.fallbackAfterMs,
        ),
        circuit: new CircuitBreaker({
          failureThreshold,
          openMs,
          clock: this.clock,
          onChange: (state) => {
            this.logger.info(
              { sink: sink.name, state },
              'circuit state changed',
            );
            if (state === 'half-open') this.pump(lane);
          },
        }),
        metrics: this.metrics.sink(sink.name),
        ready: [],
        queue: [],
        queueHead: 0,
        inflight: 0,
        locked: new Map(),
        delivered: 0,
        deadLettered: 0,
      };
      this.lanes.set(sink.name, lane);
      pending.push([lane, so.fallback]);
    }
    for (const [lane, fallback] of pending) {
      if (fallback !== undefined)
        (lane as { fallback: Lane | undefined }).fallback =
          this.lanes.get(fallback);
    }
    this.routes = options.routes ?? [];

    const defaultNames =
      options.defaultSinks ??
      options.sinks.map((s) => s.name).filter((n) => !fallbacks.has(n));
    this.defaultGroup = this.groupFor(defaultNames);
    this.plain =
      this.rateLimit === undefined &&
      this.dedup === undefined &&
      this.dropPolicy === 'block' &&
      this.routes.length === 0 &&
      this.defaultGroup.lanes.length > 0;
  }

  // ---------------------------------------------------------------- intake

  dispatch(record: LogRecord): boolean {
    if (this.closed) {
      this.countDrop('shut_down', 1);
      return false;
    }
    this.accept(record);
    return this.writableNow();
  }

  dispatchMany(records: readonly LogRecord[]): boolean {
    if (this.closed) {
      this.countDrop('shut_down', records.length);
      return false;
    }
    for (let i = 0; i < records.length; i++)
      this.accept(records[i] as LogRecord);
    return this.writableNow();
  }

  whenWritable(options?: LifecycleOptions): Promise<void> {
    if (this.closed) return Promise.reject(this.shutDownError());
    if (this.isWritable()) return Promise.resolve();
    return this.waitUntil(() => this.isWritable(), options?.signal, true);
  }

  private writableNow(): boolean {
    if (this.isWritable()) return true;
    this.pausedSinceMs ??= this.clock.monotonicNow();
    return false;
  }

  private isWritable(): boolean {
    return (
      !this.closed &&
      !this.recovering &&
      this.held < this.maxQueueRecords &&
      this.heldBytes < this.maxQueueBytes &&
      this.retryQueue.size < this.maxRetryQueue
    );
  }

  private accept(record: LogRecord): void {
    if (this.plain) {
      this.enqueue(record, this.defaultGroup, recordBytes(record));
      return;
    }
    if (this.rateLimit !== undefined && !this.takeToken(record)) {
      this.tracker.track(record, 0);
      this.countDrop('rate_limited', 1);
      return;
    }
    if (this.dedup?.isDuplicate(record, this.clock.now()) === true) {
      this.tracker.track(record, 0);
      this.countDrop('duplicate', 1);
      return;
    }
    const bytes = recordBytes(record);
    if (
      this.dropPolicy !== 'block' &&
      (this.held - this.evictingRecords >= this.maxQueueRecords ||
        this.heldBytes - this.evictingBytes >= this.maxQueueBytes)
    ) {
      if (this.dropPolicy === 'drop_newest' || !this.evictOldest()) {
        this.tracker.track(record, 0);
        this.countDrop('drop_newest', 1);
        return;
      }
    }
    const group =
      this.routes.length === 0
        ? this.defaultGroup
        : this.routeFor(record.labels);
    if (group.lanes.length === 0) {
      this.tracker.track(record, 0);
      this.countDrop('unrouted', 1);
      return;
    }
    this.enqueue(record, group, bytes);
  }

  private enqueue(record: LogRecord, group: Group, bytes: number): void {
    // Keep batches within batchMaxBytes (a single larger record goes alone).
    if (group.records.length > 0 && group.bytes + bytes > this.batchMaxBytes)
      this.closeBatch(group);
    const ack = this.tracker.track(record, group.lanes.length);
    this.held++;
    this.heldBytes += bytes;
    if (group.records.length === 0) {
      group.firstAcceptedMs = this.clock.monotonicNow();
      if (this.batchTimeoutMs > 0) {
        const timer = this.clock.setTimeout(() => {
          group.timer = undefined;
          this.closeBatch(group);
        }, this.batchTimeoutMs);
        timer.unref();
        group.timer = timer;
      }
    }
    group.records.push(record);
    group.acks.push(ack);
    group.bytes += bytes;
    if (
      group.records.length >= this.batchMaxRecords ||
      group.bytes >= this.batchMaxBytes ||
      this.batchTimeoutMs === 0
    ) {
      this.closeBatch(group);
    }
  }

  private takeToken(record: LogRecord): boolean {
    const rl = this.rateLimit as NonNullable<DispatcherOptions['rateLimit']>;
    const key =
      rl.scope === 'global'
        ? ''
        : `${record.source.kind}\u0000${record.source.id}`;
    let bucket = this.buckets.get(key);
    const now = this.clock.monotonicNow();
    if (bucket === undefined) {
      bucket = new TokenBucket(
        rl.recordsPerSecond,
        rl.burst ?? rl.recordsPerSecond,
        now,
      );
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  private routeFor(labels: Labels): Group {
    const cached = this.groupByLabels.get(labels);
    if (cached !== undefined) return cached;
    const names = new Set<string>();
    for (const route of this.routes) {
      if (matches(route, labels)) for (const n of route.sinks) names.add(n);
    }
    const group =
      names.size === 0 ? this.defaultGroup : this.groupFor([...names]);
    this.groupByLabels.set(labels, group);
    return group;
  }

  private groupFor(names: readonly string[]): Group {
    const sorted = [...new Set(names)].sort();
    const key = sorted.join('\u0000');
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        lanes: sorted.map((n) => this.lanes.get(n) as Lane),
        records: [],
        acks: [],
        bytes: 0,
        firstAcceptedMs: 0,
        timer: undefined,
      };
      this.groups.set(key, group);
    }
    return group;
  }

  private countDrop(reason: string, count: number): void {
    if (count === 0) return;
    const before = this.dropped[reason] ?? 0;
    this.dropped[reason] = before + count;
    this.metrics.dropped(reason, count);
    // Log the first drop of each reason, then every 10,000th: counted, not silent.
    if (
      before === 0 ||
      Math.floor(before / 10_000) !== Math.floor((before + count) / 10_000)
    ) {
      this.logger.warn(
        { reason, total: before + count },
        'dispatcher dropped records',
      );
    }
  }

  // --------------------------------------------------------------- batches

  private closeBatch(group: Group): void {
    if (group.records.length === 0) return;
    if (group.timer !== undefined) {
      this.clock.clearTimeout(group.timer);
      group.timer = undefined;
    }
    const batch: Batch = {
      id: `${this.runId}-${this.batchSeq}`,
      seq: this.batchSeq++,
      records: group.records,
      acks: group.acks,
      lanes: group.lanes,
      createdAtMs: this.clock.now(),
      firstAcceptedMs: group.firstAcceptedMs,
      durable: false,
      lanesLeft: group.lanes.length,
      inflight: 0,
      recovered: false,
      deliveries: [],
    };
    group.records = [];
    group.acks = [];
    group.bytes = 0;
    this.liveBatches.set(batch.seq, batch);
    const store = this.batchStore;
    if (store === undefined) {
      this.handOut(batch);
      return;
    }
    // Persist concurrently but hand out in order, so per-stream order holds.
    const slot = { batch, done: false };
    this.persistQueue.push(slot);
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
          this.persistQueue.length > 0 &&
          (this.persistQueue[0] as { done: boolean }).done
        ) {
          this.handOut((this.persistQueue.shift() as { batch: Batch }).batch);
        }
      })
      .catch(this.onError);
  }

  private handOut(
    batch: Batch,
    attempts?: Readonly<Record<string, number>>,
  ): void {
    if (this.stopped) return;
    for (const lane of batch.lanes) {
      const d: Delivery = {
        batch,
        lane,
        target: lane,
        indexes: undefined,
        records: batch.records,
        attempts: attempts?.[lane.name] ?? 0,
        firstFailureAtMs: 0,
        nextAttemptAtMs: 0,
        lastError: undefined,
        dlqIndexes: [],
        dlqErrors: [],
        streams: undefined,
        locked: false,
        state: 'waiting',
        inRetryQueue: false,
        retryToken: 0,
      };
      batch.deliveries.push(d);
      lane.queue.push(d);
      this.pump(lane);
    }
  }

  // ------------------------------------------------------------ delivering

  private pump(lane: Lane): void {
    if (this.stopped) return;
    // In half-open this sends the one probe; the rest may be diverted below.
    while (lane.inflight < lane.workers && lane.circuit.allows()) {
      const d = this.next(lane);
      if (d === undefined) break;
      this.send(d);
    }
    if (
      lane.fallback !== undefined &&
      lane.circuit.state !== 'closed' &&
      this.clock.now() - lane.circuit.outageSinceMs >= lane.fallbackAfterMs
    ) {
      this.divertAll(lane);
    }
  }

  private next(lane: Lane): Delivery | undefined {
    while (lane.ready.length > 0) {
      const d = lane.ready.shift() as Delivery;
      if (d.state === 'waiting' && d.target === lane) return d;
    }
    const q = lane.queue;
    // Clear taken slots: a done delivery must not keep its batch alive.
    while (
      lane.queueHead < q.length &&
      q[lane.queueHead]?.state !== 'waiting'
    ) {
      q[lane.queueHead++] = undefined;
    }
    if (lane.queueHead > 256 && lane.queueHead * 2 > q.length) {
      lane.queue = q.slice(lane.queueHead);
      lane.queueHead = 0;
      return this.next(lane);
    }
    if (!lane.ordered) {
      if (lane.queueHead >= q.length) return undefined;
      const d = q[lane.queueHead] as Delivery;
      q[lane.queueHead++] = undefined;
      return d;
    }
    // Ordered: the first waiting delivery none of whose streams is held by
    // a started delivery or by an earlier waiting one.
    let blocked: Set<string> | undefined;
    for (let k = lane.queueHead; k < q.length; k++) {
      const d = q[k];
      if (d === undefined || d.state !== 'waiting') {
        q.splice(k--, 1);
        continue;
      }
      d.streams ??= this.streamsOf(d.records);
      let free = true;
      for (const s of d.streams) {
        const owner = lane.locked.get(s);
        if ((owner !== undefined && owner !== d) || blocked?.has(s) === true) {
          free = false;
          break;
        }
      }
      if (free) {
        if (k === lane.queueHead) q[lane.queueHead++] = undefined;
        else q.splice(k, 1);
        return d;
      }
      blocked ??= new Set();
      for (const s of d.streams) blocked.add(s);
    }
    return undefined;
  }

  private streamsOf(records: readonly LogRecord[]): string[] {
    const seen = new Set<Labels>();
    const keys = new Set<string>();
    for (const r of records) {
      if (seen.has(r.labels)) continue;
      seen.add(r.labels);
      keys.add(streamKey(r.labels));
    }
    return [...keys];
  }

  private lock(d: Delivery): void {
    if (d.locked || !d.lane.ordered || d.target !== d.lane) return;
    d.streams ??= this.streamsOf(d.records);
    for (const s of d.streams) d.lane.locked.set(s, d);
    d.locked = true;
  }

  private unlock(d: Delivery): void {
    if (!d.locked) return;
    d.locked = false;
    for (const s of d.streams ?? [])
      if (d.lane.locked.get(s) === d) d.lane.locked.delete(s);
    // Later batches of these streams may be able to go now.
    if (!this.stopped) queueMicrotask(() => this.pump(d.lane));
  }

  private send(d: Delivery): void {
    const lane = d.target;
    lane.inflight++;
    d.batch.inflight++;
    d.state = 'inflight';
    this.lock(d);
    lane.circuit.onAttempt();
    const controller = new AbortController();
    this.controllers.add(controller);
    const started = this.clock.monotonicNow();
    const timer = this.clock.setTimeout(() => {
      controller.abort(
        new LcError({
          code: 'LC_ERR_TIMEOUT',
          message: `sink "${lane.name}" write timed out after ${this.sendTimeoutMs} ms`,
          details: { sink: lane.name, timeoutMs: this.sendTimeoutMs },
        }),
      );
    }, this.sendTimeoutMs);
    timer.unref();
    // A sink that ignores its signal must not hold a worker forever.
    const aborted = new Promise<WriteResult>((resolve) => {
      controller.signal.addEventListener(
        'abort',
        () =>
          resolve(
            WriteResults.retryable(
              toLcError(controller.signal.reason, 'LC_ERR_ABORTED'),
            ),
          ),
        { once: true },
      );
    });
    let write: Promise<WriteResult>;
    try {
      write = lane.sink.write(d.records, { signal: controller.signal });
    } catch (error) {
      write = Promise.reject(error);
    }
    Promise.race([write, aborted])
      .catch((error: unknown) => {
        this.onError(error);
        return WriteResults.retryable(
          toLcError(error, 'LC_ERR_SINK_WRITE', `sink "${lane.name}" threw`),
        );
      })
      .then((result) => {
        this.clock.clearTimeout(timer);
        this.controllers.delete(controller);
        lane.inflight--;
        d.batch.inflight--;
        lane.metrics.sendSeconds.observe(
          (this.clock.monotonicNow() - started) / 1000,
        );
        this.onResult(d, lane, result);
        this.pump(lane);
      })
      .catch(this.onError);
  }

  private onResult(d: Delivery, lane: Lane, result: WriteResult): void {
    if (this.stopped) {
      d.state = 'waiting';
      return;
    }
    const m = lane.metrics;
    switch (result.status) {
      case 'success':
        m.batchesOk.inc();
        lane.circuit.onSuccess();
        this.delivered(d, undefined);
        this.finalize(d);
        return;
      case 'retryable':
        m.batchesRetryable.inc();
        lane.circuit.onRetryableFailure();
        this.retry(d, result.error, result.retryAfterMs);
        return;
      case 'failure':
        if (result.error.code === 'LC_ERR_SHUT_DOWN') {
          // The sink is closing, the data is fine: keep it unsettled.
          m.batchesRetryable.inc();
          this.retry(d, result.error, undefined);
          return;
        }
        m.batchesFailed.inc();
        for (let k = 0; k < d.records.length; k++) {
          d.dlqIndexes.push(this.indexOf(d, k));
          d.dlqErrors.push(result.error);
        }
        this.finalize(d);
        return;
      case 'partial': {
        m.batchesPartial.inc();
        lane.circuit.onSuccess();
        const failed = new Map<number, (typeof result.failed)[number]>();
        for (const f of result.failed) failed.set(f.index, f);
        const ok: number[] = [];
        const again: number[] = [];
        let retryAfterMs: number | undefined;
        let retryError: LcError | undefined;
        for (let k = 0; k < d.records.length; k++) {
          const f = failed.get(k);
          if (f === undefined) ok.push(k);
          else if (f.retryable) {
            again.push(k);
            retryError ??= f.error;
            if (f.retryAfterMs !== undefined)
              retryAfterMs = Math.max(retryAfterMs ?? 0, f.retryAfterMs);
          } else {
            d.dlqIndexes.push(this.indexOf(d, k));
            d.dlqErrors.push(f.error);
          }
        }
        this.delivered(d, ok);
        if (again.length === 0) {
          this.finalize(d);
          return;
        }
        const records = d.records;
        d.indexes = again.map((k) => this.indexOf(d, k));
        d.records = again.map((k) => records[k] as LogRecord);
        this.retry(d, retryError as LcError, retryAfterMs);
        return;
      }
    }
  }

  private indexOf(d: Delivery, k: number): number {
    return d.indexes === undefined ? k : (d.indexes[k] as number);
  }

  private delivered(d: Delivery, ks: readonly number[] | undefined): void {
    const n = ks === undefined ? d.records.length : ks.length;
    for (let j = 0; j < n; j++) {
      const k = ks === undefined ? j : (ks[j] as number);
      this.settleIndex(d.batch, this.indexOf(d, k));
    }
    this.flushAcks(d.batch);
    d.target.metrics.recordsSent.inc(n);
    d.lane.delivered += n;
    if (d.target !== d.lane)
      this.metrics.fallback(d.lane.name, d.target.name, n);
  }

  private settleIndex(batch: Batch, i: number): void {
    const tracker = batch.recovered ? this.recoveredTracker : this.tracker;
    if (!tracker.settle(batch.acks[i] as AckItem)) return;
    this.held--;
    this.heldBytes -= recordBytes(batch.records[i] as LogRecord);
    if (this.waiters.length > 0) this.wake();
  }

  private flushAcks(batch: Batch): void {
    (batch.recovered ? this.recoveredTracker : this.tracker).flush();
  }

  private retry(
    d: Delivery,
    error: LcError,
    retryAfterMs: number | undefined,
  ): void {
    const now = this.clock.now();
    d.lastError = error;
    d.attempts++;
    if (d.firstFailureAtMs === 0) d.firstFailureAtMs = now;
    if (
      d.attempts >= this.maxAttempts ||
      now - d.firstFailureAtMs >= this.maxAgeMs
    ) {
      if (d.target === d.lane && d.lane.fallback !== undefined) {
        this.divert(d);
      } else {
        for (let k = 0; k < d.records.length; k++) {
          d.dlqIndexes.push(this.indexOf(d, k));
          d.dlqErrors.push(error);
        }
        this.finalize(d);
      }
      return;
    }
    const delay = backoffDelayMs(
      d.attempts,
      this.retryBaseMs,
      this.retryMaxMs,
      retryAfterMs,
      this.random,
    );
    d.nextAttemptAtMs = now + delay;
    d.state = 'retry';
    this.retries++;
    d.target.metrics.retries.inc();
    if (d.batch.durable && d.target === d.lane) {
      this.batchStore
        ?.markFailed(
          d.batch.id,
          d.lane.name,
          error,
          d.attempts,
          d.nextAttemptAtMs,
        )
        .catch(this.onError);
    }
    this.pushRetry(d);
  }

  private pushRetry(d: Delivery): void {
    this.retryQueue.push(d, d.nextAttemptAtMs);
  }

  private onRetriesDue(due: readonly Delivery[]): void {
    if (this.stopped) return;
    const touched = new Set<Lane>();
    for (const d of due) {
      if (d.state === 'dead-letter') {
        void this.writeDeadLetters(d);
      } else if (d.state === 'retry') {
        d.state = 'waiting';
        d.target.ready.push(d);
        touched.add(d.target);
      }
    }
    for (const lane of touched) this.pump(lane);
    if (this.waiters.length > 0) this.wake();
  }

  private divertAll(lane: Lane): void {
    for (const d of lane.ready)
      if (d.state === 'waiting' && d.target === lane) this.divert(d);
    lane.ready = [];
    for (let k = lane.queueHead; k < lane.queue.length; k++) {
      const d = lane.queue[k];
      if (d !== undefined && d.state === 'waiting' && d.target === lane)
        this.divert(d);
    }
    lane.queue = [];
    lane.queueHead = 0;
  }

  /** Send to the lane's fallback sink, labelled with the original sink. */
  private divert(d: Delivery): void {
    const fallback = d.lane.fallback as Lane;
    this.unlock(d);
    d.target = fallback;
    d.records = d.records.map((r) => ({
      ...r,
      metadata: { ...r.metadata, lc_original_sink: d.lane.name },
    }));
    d.attempts = 0;
    d.firstFailureAtMs = 0;
    d.state = 'waiting';
    this.logger.warn(
      { sink: d.lane.name, fallback: fallback.name, records: d.records.length },
      'batch diverted to fallback sink',
    );
    fallback.queue.push(d);
    this.pump(fallback);
  }

  // ----------------------------------------------------- settling a delivery

  private finalize(d: Delivery): void {
    this.unlock(d);
    if (d.dlqIndexes.length > 0) {
      d.state = 'dead-letter';
      void this.writeDeadLetters(d);
      return;
    }
    if (d.batch.durable)
      this.batchStore
        ?.markDelivered(d.batch.id, d.lane.name)
        .catch(this.onError);
    this.done(d);
  }

  private async writeDeadLetters(d: Delivery): Promise<void> {
    const batch = d.batch;
    const n = d.dlqIndexes.length;
    const last = d.dlqErrors[n - 1] as LcError;
    try {
      if (batch.durable && this.batchStore !== undefined) {
        await this.batchStore.deadLetter(batch.id, d.lane.name, last, {
          indexes: d.dlqIndexes,
          attempts: Math.max(1, d.attempts),
        });
      } else if (this.deadLetters !== undefined) {
        const now = this.clock.now();
        const entries: Omit<DeadLetterEntry, 'id'>[] = d.dlqIndexes.map(
          (i, j) => {
            const error = d.dlqErrors[j] as LcError;
            const status = error.details.status;
            return {
              record: batch.records[i] as LogRecord,
              sink: d.lane.name,
              reason: {
                code: error.code,
                message: error.message,
                ...(typeof status === 'number' || typeof status === 'string'
                  ? { status }
                  : {}),
              },
              attempts: Math.max(1, d.attempts),
              firstFailureAtMs:
                d.firstFailureAtMs === 0 ? now : d.firstFailureAtMs,
              lastFailureAtMs: now,
            };
          },
        );
        await this.deadLetters.add(entries);
      } else {
        this.logger.error(
          { sink: d.lane.name, records: n, code: last.code },
          'records failed permanently and no dead-letter store is configured',
        );
        this.countDrop('no_dead_letter_store', n);
      }
    } catch (error) {
      if (this.stopped) return;
      this.onError(
        toLcError(error, 'LC_ERR_DLQ', 'dead-letter write failed; will retry'),
      );
      d.attempts++;
      d.nextAttemptAtMs =
        this.clock.now() +
        backoffDelayMs(
          d.attempts,
          this.retryBaseMs,
          this.retryMaxMs,
          undefined,
          this.random,
        );
      this.pushRetry(d);
      return;
    }
    const byCode = new Map<string, number>();
    for (const e of d.dlqErrors)
      byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
    for (const [code, count] of byCode)
      this.metrics.deadLettered(d.lane.name, code, count);
    d.lane.deadLettered += n;
    for (const i of d.dlqIndexes) this.settleIndex(batch, i);
    this.flushAcks(batch);
    this.done(d);
  }

  private done(d: Delivery): void {
    d.state = 'done';
    const batch = d.batch;
    batch.lanesLeft--;
    if (batch.lanesLeft > 0) return;
    this.liveBatches.delete(batch.seq);
    const evicting = this.evicting.get(batch);
    if (evicting !== undefined) {
      this.evictingRecords -= evicting.records;
      this.evictingBytes -= evicting.bytes;
    }
    this.metrics.latencySeconds(
      (this.clock.monotonicNow() - batch.firstAcceptedMs) / 1000,
    );
    if (this.waiters.length > 0) this.wake();
  }

  /** drop_oldest: dead-letter the oldest batch that is not being written. */
  private evictOldest(): boolean {
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
        this.retryQueue.cancel(d);
        for (let k = 0; k < d.records.length; k++) {
          d.dlqIndexes.push(this.indexOf(d, k));
          d.dlqErrors.push(error);
        }
        evicted += d.records.length;
        this.finalize(d);
      }
      if (evicted === 0) continue;
      let bytes = 0;
      for (const r of batch.records) bytes += recordBytes(r);
      if (batch.lanesLeft > 0) {
        this.evicting.set(batch, { records: batch.records.length, bytes });
        this.evictingRecords += batch.records.length;
        this.evictingBytes += bytes;
      }
      this.countDrop('drop_oldest', evicted);
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------- waiting

  private waitUntil(
    ready: () => boolean,
    signal?: AbortSignal,
    intake = false,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(
          new LcError({ code: 'LC_ERR_ABORTED', message: 'wait aborted' }),
        );
        return;
      }
      const waiter: Waiter = {
        intake,
        ready,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new LcError({ code: 'LC_ERR_ABORTED', message: 'wait aborted' }),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    if (this.pausedSinceMs !== undefined && this.isWritable()) {
      const ms = this.clock.monotonicNow() - this.pausedSinceMs;
      this.backpressureMs += ms;
      this.metrics.backpressureSeconds(ms / 1000);
      this.pausedSinceMs = undefined;
    }
    const waiters = this.waiters;
    let kept: Waiter[] | undefined;
    for (const w of waiters) {
      if (w.ready()) w.resolve();
      else (kept ??= []).push(w);
    }
    this.waiters = kept ?? [];
  }

  private shutDownError(): LcError {
    return new LcError({
      code: 'LC_ERR_SHUT_DOWN',
      message: 'dispatcher is shut down',
    });
  }

  // ------------------------------------------------------------ lifecycle

  start = once(async (): Promise<void> => {
    const store = this.batchStore;
    if (store === undefined) return;
    this.recovering = true;
    try {
      for await (const rb of store.recover()) {
        const lanes: Lane[] = [];
        for (const name of rb.pendingSinks) {
          const lane = this.lanes.get(name);
          if (lane !== undefined) {
            lanes.push(lane);
            continue;
          }
          // A sink that no longer exists can never take it: dead-letter.
          await store.deadLetter(
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
        if (!this.hasRoom())
          await this.waitUntil(() => this.hasRoom() || this.stopped);
        if (this.stopped) return;
        const acks = rb.records.map((r) =>
          this.recoveredTracker.track(r, lanes.length),
        );
        let bytes = 0;
        for (const r of rb.records) bytes += recordBytes(r);
        this.held += rb.records.length;
        this.heldBytes += bytes;
        this.recoveredRecords += rb.records.length;
        const batch: Batch = {
          id: rb.id,
          seq: this.batchSeq++,
          records: rb.records,
          acks,
          lanes,
          createdAtMs: rb.createdAtMs,
          firstAcceptedMs: this.clock.monotonicNow(),
          durable: true,
          lanesLeft: lanes.length,
          inflight: 0,
          recovered: true,
          deliveries: [],
        };
        this.liveBatches.set(batch.seq, batch);
        this.handOut(batch, rb.attempts);
      }
    } finally {
      this.recovering = false;
      if (this.waiters.length > 0) this.wake();
    }
  });

  private hasRoom(): boolean {
    return (
      this.held < this.maxQueueRecords && this.heldBytes < this.maxQueueBytes
    );
  }

  private closeAll(): void {
    for (const group of this.groups.values()) this.closeBatch(group);
  }

  async flush(options?: LifecycleOptions): Promise<void> {
    this.closeAll();
    const target = this.batchSeq;
    const settled = (): boolean => {
      for (const seq of this.liveBatches.keys()) return seq >= target;
      return true;
    };
    if (!settled()) await this.waitUntil(settled, options?.signal);
    await this.batchStore?.flush(options);
    await Promise.all(
      [...this.lanes.values()].map((l) => l.sink.flush(options)),
    );
  }

  shutdown = once(async (): Promise<void> => {
    this.closed = true;
    const intakeWaiters = this.waiters.filter((w) => w.intake);
    this.waiters = this.waiters.filter((w) => !w.intake);
    for (const w of intakeWaiters) w.reject(this.shutDownError());
    this.closeAll();
    const drained = (): boolean => this.liveBatches.size === 0;
    if (!drained() && this.shutdownTimeoutMs > 0) {
      const ac = new AbortController();
      const timer = this.clock.setTimeout(
        () => ac.abort(),
        this.shutdownTimeoutMs,
      );
      timer.unref();
      await this.waitUntil(drained, ac.signal).catch(() => undefined);
      this.clock.clearTimeout(timer);
    }
    const left = this.held;
    this.stopped = true;
    this.retryQueue.stop();
    for (const controller of this.controllers) {
      controller.abort(
        new LcError({
          code: 'LC_ERR_SHUT_DOWN',
          message: 'dispatcher shutting down',
        }),
      );
    }
    for (const lane of this.lanes.values()) lane.circuit.dispose();
    if (left > 0) {
      this.logger.warn(
        { records: left, durable: this.batchStore !== undefined },
        'shutdown timed out: records left unsettled (not committed; kept in the batch store when there is one)',
      );
    }
    // Recovery stops waiting for room; pending flushes fail.
    this.wake();
    for (const w of this.waiters.splice(0)) w.reject(this.shutDownError());
    this.tracker.flush();
    this.tracker.commitAll();
    try {
      await this.batchStore?.flush();
    } catch (error) {
      this.onError(error);
    }
    if (this.shutdownSinks) {
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
      queuedRecords: this.held,
      queuedBytes: this.heldBytes,
      writable: this.isWritable(),
      liveBatches: this.liveBatches.size,
      retryQueueSize: this.retryQueue.size,
      retries: this.retries,
      dropped: { ...this.dropped },
      backpressureMs:
        this.backpressureMs +
        (this.pausedSinceMs === undefined
          ? 0
          : this.clock.monotonicNow() - this.pausedSinceMs),
      recoveredRecords: this.recoveredRecords,
      sinks: [...this.lanes.values()].map((l) => ({
        name: l.name,
        inflight: l.inflight,
        queued: l.ready.length + l.queue.length - l.queueHead,
        circuit: l.circuit.state,
        delivered: l.delivered,
        deadLettered: l.deadLettered,
      })),
    };
  }
}
