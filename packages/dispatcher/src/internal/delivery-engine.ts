import { LcError } from '@lc/core';
import type {
  Clock,
  Logger,
  LogRecord,
  RecordFailure,
  WriteResult,
} from '@lc/core';
import { backoffDelayMs } from './backoff.js';
import type { DispatcherMetrics } from './dispatcher-metrics.js';
import { lockStreams, nextDelivery, unlockStreams } from './lanes.js';
import { takeLogSlot } from './log-slot.js';
import type { Batch, Delivery, Lane } from './model.js';
import { RetryQueue } from './retry-queue.js';
import { indexOf } from './settler.js';
import type { Settler } from './settler.js';
import { writeWithTimeout } from './sink-write.js';
import type { WalCoordinator } from './wal-coordinator.js';

/** What a {@link DeliveryEngine} needs. */
export interface DeliveryEngineSetup {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onError: (error: unknown) => void;
  readonly metrics: DispatcherMetrics;
  readonly wal: WalCoordinator;
  readonly sendTimeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  readonly random: () => number;
  /** Retries fell due: waiters may proceed (the retry queue shrank). */
  readonly onRoom: () => void;
}

/**
 * The delivery workers of every lane: starts writes up to each lane's
 * `workers` while its circuit allows, in per-stream order on ordered lanes;
 * turns results into settlement, retries (one heap, one timer, backoff with
 * full jitter, `retryAfterMs`), fallback diversion or dead letters.
 */
export class DeliveryEngine {
  readonly retryQueue: RetryQueue<Delivery>;
  /** Retries scheduled since start. */
  retries = 0;
  private readonly s: DeliveryEngineSetup;
  private settler!: Settler;
  private readonly controllers = new Set<AbortController>();
  private stopped = false;

  constructor(setup: DeliveryEngineSetup) {
    this.s = setup;
    this.retryQueue = new RetryQueue(setup.clock, (due) =>
      this.onRetriesDue(due),
    );
  }

  /** Wire the settler (the two call each other). */
  attach(settler: Settler): void {
    this.settler = settler;
  }

  /** Queue one delivery per lane of `batch`, with attempts made before a restart. */
  handOut(batch: Batch, attempts?: Readonly<Record<string, number>>): void {
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

  /** Start what `lane` may start now; divert to its fallback after a long outage. */
  pump(lane: Lane): void {
    if (this.stopped) return;
    // In half-open this sends the one probe; the rest may be diverted below.
    while (lane.inflight < lane.workers && lane.circuit.allows()) {
      const d = nextDelivery(lane);
      if (d === undefined) break;
      this.send(d);
    }
    if (
      lane.fallback !== undefined &&
      lane.circuit.state !== 'closed' &&
      this.s.clock.now() - lane.circuit.outageSinceMs >= lane.fallbackAfterMs
    ) {
      this.divertAll(lane);
    }
  }

  /**
   * The circuit of `lane` is half-open: send the probe. When nothing is
   * waiting (every batch backs off, sources paused by backpressure), the
   * earliest retry becomes the probe instead of waiting out its backoff.
   */
  probe(lane: Lane): void {
    this.pump(lane);
    if (this.stopped || lane.inflight > 0) return;
    this.retryQueue.hurry((d) => d.target === lane, 1);
  }

  /**
   * The circuit of `lane` closed after an outage (a write succeeded): its
   * backed-off retries go now rather than up to `retry.maxDelayMs` later.
   */
  recovered(lane: Lane): void {
    if (this.stopped) return;
    this.retryQueue.hurry((d) => d.target === lane);
  }

  /** Release `d`'s streams; later batches of them may go now. */
  unlock(d: Delivery): void {
    if (!unlockStreams(d)) return;
    if (!this.stopped) queueMicrotask(() => this.pump(d.lane));
  }

  /** Schedule `d` at `d.nextAttemptAtMs`. */
  pushRetry(d: Delivery): void {
    this.retryQueue.push(d, d.nextAttemptAtMs);
  }

  /** Stop writing: no timer fires, in-flight writes are aborted (`LC_ERR_SHUT_DOWN`). */
  stop(lanes: Iterable<Lane>): void {
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
    for (const lane of lanes) lane.circuit.dispose();
  }

  private send(d: Delivery): void {
    const lane = d.target;
    lane.inflight++;
    d.batch.inflight++;
    d.state = 'inflight';
    lockStreams(d);
    lane.circuit.onAttempt();
    writeWithTimeout(
      lane,
      d.records,
      this.s.sendTimeoutMs,
      this.s.clock,
      this.controllers,
      this.s.onError,
      (result, seconds) => {
        lane.inflight--;
        d.batch.inflight--;
        lane.metrics.sendSeconds.observe(seconds);
        this.onResult(d, lane, result);
        this.pump(lane);
      },
    );
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
        this.settler.delivered(d, undefined);
        this.settler.finalize(d);
        return;
      case 'retryable':
        m.batchesRetryable.inc();
        // The cause first: an opening circuit logs it.
        lane.lastError = {
          code: result.error.code,
          message: result.error.message,
          atMs: this.s.clock.now(),
        };
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
        this.settler.failAll(d, result.error);
        this.settler.finalize(d);
        return;
      case 'partial':
        m.batchesPartial.inc();
        lane.circuit.onSuccess();
        this.onPartial(d, result.failed);
        return;
    }
  }

  /** Deliver the accepted part, dead-letter the rejected, retry the rest. */
  private onPartial(d: Delivery, failedList: readonly RecordFailure[]): void {
    const failed = new Map<number, RecordFailure>();
    for (const f of failedList) failed.set(f.index, f);
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
        d.dlqIndexes.push(indexOf(d, k));
        d.dlqErrors.push(f.error);
      }
    }
    this.settler.delivered(d, ok);
    if (again.length === 0) {
      this.settler.finalize(d);
      return;
    }
    const records = d.records;
    d.indexes = again.map((k) => indexOf(d, k));
    d.records = again.map((k) => records[k] as LogRecord);
    this.retry(d, retryError as LcError, retryAfterMs);
  }

  private retry(
    d: Delivery,
    error: LcError,
    retryAfterMs: number | undefined,
  ): void {
    const s = this.s;
    const now = s.clock.now();
    d.lastError = error;
    d.attempts++;
    if (d.firstFailureAtMs === 0) d.firstFailureAtMs = now;
    if (d.attempts >= s.maxAttempts || now - d.firstFailureAtMs >= s.maxAgeMs) {
      if (d.target === d.lane && d.lane.fallback !== undefined) {
        this.divert(d);
      } else {
        this.settler.failAll(d, error);
        this.settler.finalize(d);
      }
      return;
    }
    const delay = backoffDelayMs(
      d.attempts,
      s.retryBaseMs,
      s.retryMaxMs,
      retryAfterMs,
      s.random,
    );
    d.nextAttemptAtMs = now + delay;
    this.logFailure(d, error, delay);
    d.state = 'retry';
    this.retries++;
    d.target.metrics.retries.inc();
    s.wal.markFailed(d, error);
    this.pushRetry(d);
  }

  /**
   * A failed delivery that will be retried: kept as the sink's last error and
   * logged at warn with its cause and what happens next, at most once per
   * 10 s per sink (`takeLogSlot`) (the others are counted in the next).
   */
  private logFailure(d: Delivery, error: LcError, retryInMs: number): void {
    const lane = d.target;
    const now = this.s.clock.now();
    lane.lastError = { code: error.code, message: error.message, atMs: now };
    const suppressed = takeLogSlot(lane.failureLog, now);
    if (suppressed === undefined) return;
    this.s.logger.warn(
      {
        sink: lane.name,
        code: error.code,
        cause: error.message,
        records: d.records.length,
        attempt: d.attempts,
        retryInMs,
        ...(suppressed > 0 ? { alsoFailedSinceLastLog: suppressed } : {}),
      },
      `sink ${lane.name}: delivery failed (${error.message}); retrying in ${retryInMs} ms`,
    );
  }

  private onRetriesDue(due: readonly Delivery[]): void {
    if (this.stopped) return;
    const touched = new Set<Lane>();
    for (const d of due) {
      if (d.state === 'dead-letter') {
        void this.settler.writeDeadLetters(d);
      } else if (d.state === 'retry') {
        d.state = 'waiting';
        d.target.ready.push(d);
        touched.add(d.target);
      }
    }
    for (const lane of touched) this.pump(lane);
    this.s.onRoom();
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
    const cause = d.lane.lastError;
    const suppressed = takeLogSlot(
      d.lane.divertLog,
      this.s.clock.now(),
      d.records.length,
    );
    if (suppressed !== undefined)
      this.s.logger.warn(
        {
          sink: d.lane.name,
          fallback: fallback.name,
          records: d.records.length,
          code: cause?.code,
          cause: cause?.message,
          ...(suppressed > 0 ? { alsoSinceLastLog: suppressed } : {}),
        },
        `sink ${d.lane.name}: ${d.records.length} record${d.records.length === 1 ? ' goes' : 's go'} to fallback ${fallback.name} instead (${cause?.message ?? 'sink down'})`,
      );
    fallback.queue.push(d);
    this.pump(fallback);
  }
}
