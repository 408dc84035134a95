import path from 'node:path';
import { createDiskLog } from '@lc/buffer';
import { LcError, once, silentLogger, systemClock, toLcError } from '@lc/core';
import type {
  BatchStore,
  DeadLetterEntry,
  DeadLetterStore,
  LifecycleOptions,
  PersistedBatch,
} from '@lc/core';
import { Registry } from 'prom-client';
import { createDeadLetterStore } from './dead-letter-store.js';
import {
  applyWalEvent,
  newBatchState,
  toPendingInfo,
} from './internal/batch-state.js';
import type { BatchState } from './internal/batch-state.js';
import type { DiskLogPort } from './internal/disk-log-port.js';
import { createPersistenceMetrics } from './internal/persistence-metrics.js';
export type {
  BatchPersistenceOptions,
  RedeliveryHandler,
} from './batch-persistence-options.js';
import { loadWalState } from './internal/load-wal-state.js';
import { createRecoveryLoop } from './internal/recovery-loop.js';
import { enumOption, numberOption, stringOption } from './internal/options.js';
import {
  COMPONENT,
  DEFAULT_WAL_SEGMENT_BYTES,
  resolveBatchPersistenceOptions,
} from './batch-persistence-options.js';
import type {
  BatchPersistenceOptions,
  RedeliveryHandler,
} from './batch-persistence-options.js';
import { PendingGate } from './internal/pending-gate.js';
import {
  WAL_SOURCE_BATCH,
  WAL_SOURCE_EVENT,
  decodeBatchEntry,
  decodeEntryHeader,
  encodeBatchEntry,
  encodeEventEntry,
} from './internal/wal-entry.js';
import type { WalEvent } from './internal/wal-entry.js';

/** Counters of a {@link BatchPersistence}. */
export interface BatchPersistenceStats {
  readonly pendingBatches: number;
  readonly pendingBytes: number;
  /** `persist` calls waiting for room. */
  readonly waitingPersists: number;
  readonly persisted: number;
  readonly settled: number;
  /** (batch, sink) pairs dead-lettered. */
  readonly deadLettered: number;
  readonly expired: number;
  readonly redelivered: number;
  /** Unsettled batches found on open. */
  readonly recoveredOnOpen: number;
}

/** The batch WAL: a {@link BatchStore} with its dead-letter store and a recovery loop. */
export interface BatchPersistence extends BatchStore {
  /** The dead-letter store batches are settled into. */
  readonly deadLetters: DeadLetterStore;
  /**
   * Set (or clear) where the recovery loop offers handed-back batches
   * (those `markFailed` without `nextAttemptAtMs`). Without a handler they
   * wait, and expire after `batchTtlMs`.
   */
  setRedeliveryHandler(handler: RedeliveryHandler | undefined): void;
  /** Counters; valid after shutdown. */
  stats(): BatchPersistenceStats;
}

/**
 * Open (creating) the batch write-ahead log under `options.directory`,
 * rebuilding the state of unsettled batches from previous runs by
 * streaming the WAL once (metadata only; records stay on disk until
 * `recover()` streams them).
 */
export async function createBatchPersistence(
  options: BatchPersistenceOptions,
): Promise<BatchPersistence> {
  const directory = path.resolve(
    stringOption(COMPONENT, 'directory', options.directory),
  );
  const fsync = enumOption(
    COMPONENT,
    'fsync',
    options.fsync,
    ['always', 'interval', 'never'],
    'interval',
  );
  const maxSegmentBytes = numberOption(
    COMPONENT,
    'maxSegmentBytes',
    options.maxSegmentBytes,
    DEFAULT_WAL_SEGMENT_BYTES,
    { min: 4096 },
  );
  const shared = {
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.encryptionKey === undefined
      ? {}
      : { encryptionKey: options.encryptionKey }),
    ...(options.fsyncIntervalMs === undefined
      ? {}
      : { fsyncIntervalMs: options.fsyncIntervalMs }),
  };
  const ownsDeadLetters = options.deadLetters === undefined;
  const deadLetters =
    options.deadLetters ??
    (await createDeadLetterStore({
      directory: path.join(directory, 'dlq'),
      fsync: fsync === 'never' ? 'never' : 'always',
      ...shared,
    }));
  let log: DiskLogPort;
  try {
    log = await createDiskLog({
      directory: path.join(directory, 'wal'),
      fsync,
      maxSegmentBytes,
      name: 'batch-wal',
      ...shared,
    });
  } catch (error) {
    if (ownsDeadLetters) await deadLetters.close();
    throw error;
  }
  return openBatchPersistence(log, deadLetters, ownsDeadLetters, options);
}

/** Build the persistence over open logs (exported for tests via internal use). */
async function openBatchPersistence(
  log: DiskLogPort,
  deadLetters: DeadLetterStore,
  ownsDeadLetters: boolean,
  options: BatchPersistenceOptions,
): Promise<BatchPersistence> {
  const {
    maxPendingBatches,
    maxPendingBytes,
    batchTtlMs,
    backoffBaseMs,
    backoffMaxMs,
    maxRecoveryRetries,
    checkIntervalMs,
  } = resolveBatchPersistenceOptions(options);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const logger = (options.logger ?? silentLogger).child({
    component: 'batch-persistence',
  });
  const metrics = createPersistenceMetrics(options.registry ?? new Registry());
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.error({ err: error }, 'batch persistence background error'));

  const persisting = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  const gate = new PendingGate(maxPendingBatches, maxPendingBytes);
  let redeliver = options.redeliver;
  let closed = false;
  const counts = {
    persisted: 0,
    settled: 0,
    deadLettered: 0,
    expired: 0,
    redelivered: 0,
    recoveredOnOpen: 0,
  };

  const batches = await loadWalState(log, logger, metrics);
  for (const st of batches.values()) gate.force(st.bytes);
  counts.recoveredOnOpen = batches.size;

  const assertOpen = (): void => {
    if (closed)
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'batch persistence is shut down',
      });
  };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    const done = (): void => {
      inFlight.delete(promise);
    };
    promise.then(done, done);
    return promise;
  };

  /**
   * Write an event. For a final outcome (`delivered`, `dead-lettered`) the
   * caller has moved `sink` from `pending` to `settling`; the batch settles
   * only once no sink is pending or settling, so an ack never overtakes an
   * outcome that is still being written.
   */
  const appendEvent = async (
    st: BatchState,
    event: Omit<WalEvent, 'type'>,
  ): Promise<void> => {
    const final = event.kind !== 'failed';
    let seq: number;
    try {
      seq = await log.append(encodeEventEntry(event), {
        timestampMs: event.atMs,
        source: WAL_SOURCE_EVENT,
      });
    } catch (error) {
      if (
        final &&
        !st.settled &&
        st.pending.size === 0 &&
        st.settling.size === 1 &&
        LcError.isInstance(error, 'LC_ERR_DISK_FULL')
      ) {
        // The last outcome of the batch cannot be written because the disk
        // is full. Settling needs no event (the ack alone says it), and
        // acking is what frees space; waiting for room to write the event
        // would deadlock. A crash before the ack is durable only means a
        // redelivery (at least once).
        logger.warn(
          { batchId: st.id, sink: event.sink },
          'disk full: batch settled by acknowledgement only',
        );
        st.settling.delete(event.sink);
        settle(st);
        await log.flush().catch(onError);
        return;
      }
      if (final && st.settling.delete(event.sink) && !st.settled)
        st.pending.add(event.sink);
      throw toLcError(
        error,
        'LC_ERR_BUFFER_IO',
        `recording ${event.kind} of batch ${st.id} for sink "${event.sink}" failed`,
      );
    }
    if (st.settled) {
      log.ack(seq);
      return;
    }
    st.eventSeqs.push(seq);
    if (final) st.settling.delete(event.sink);
    if (st.pending.size === 0 && st.settling.size === 0) settle(st);
  };

  function settle(st: BatchState): void {
    st.settled = true;
    batches.delete(st.id);
    log.ack([st.seq, ...st.eventSeqs]);
    gate.release(st.bytes);
    counts.settled++;
    metrics.settled.inc();
  }

  async function readBatch(st: BatchState): Promise<PersistedBatch> {
    for await (const entry of log.read({ fromSeq: st.seq })) {
      if (entry.seq === st.seq) return decodeBatchEntry(entry.payload);
      if (entry.seq > st.seq) break;
    }
    throw new LcError({
      code: 'LC_ERR_INTERNAL',
      message: `batch ${st.id} (seq ${st.seq}) not found in the WAL`,
      details: { batchId: st.id, seq: st.seq },
    });
  }

  async function doDeadLetter(
    st: BatchState,
    sink: string,
    error: LcError,
    indexes?: readonly number[],
    attempts?: number,
  ): Promise<void> {
    st.pending.delete(sink);
    st.settling.add(sink);
    st.parked.delete(sink);
    try {
      const batch = await readBatch(st);
      const now = clock.now();
      const status = error.details.status;
      const reason =
        typeof status === 'number' || typeof status === 'string'
          ? { code: error.code, message: error.message, status }
          : { code: error.code, message: error.message };
      const entries: Omit<DeadLetterEntry, 'id'>[] = [];
      for (const i of indexes ?? batch.records.map((_, k) => k)) {
        const record = batch.records[i];
        if (record === undefined) continue;
        entries.push({
          record,
          sink,
          reason,
          attempts: attempts ?? st.attempts[sink] ?? 0,
          firstFailureAtMs: st.firstFailureAtMs.get(sink) ?? now,
          lastFailureAtMs: now,
        });
      }
      await deadLetters.add(entries);
    } catch (cause) {
      // Not in the DLQ: the sink stays pending, nothing is lost.
      st.settling.delete(sink);
      st.pending.add(sink);
      throw toLcError(
        cause,
        'LC_ERR_DLQ',
        `dead-lettering batch ${st.id} for sink "${sink}" failed`,
      );
    }
    counts.deadLettered++;
    metrics.deadLettered.inc({ code: error.code });
    await appendEvent(st, {
      batchId: st.id,
      sink,
      kind: 'dead-lettered',
      attempt: attempts ?? st.attempts[sink] ?? 0,
      atMs: clock.now(),
      error: { code: error.code, message: error.message },
    });
  }

  const loop = createRecoveryLoop({
    batches,
    clock,
    random,
    batchTtlMs,
    backoffBaseMs,
    backoffMaxMs,
    maxRecoveryRetries,
    checkIntervalMs,
    logger,
    getHandler: () => redeliver,
    isClosed: () => closed,
    readBatch,
    deadLetter: (st, sink, error) => doDeadLetter(st, sink, error),
    track,
    onError,
    onExpired: () => {
      counts.expired++;
      metrics.expired.inc();
    },
    onRedelivered: () => {
      counts.redelivered++;
      metrics.redelivered.inc();
    },
  });
  const park = loop.park;
  loop.start();

  const persistence: BatchPersistence = {
    deadLetters,

    persist(batch, persistOptions) {
      return track(
        (async () => {
          assertOpen();
          if (batches.has(batch.id) || persisting.has(batch.id)) return;
          persisting.add(batch.id);
          try {
            const payload = encodeBatchEntry(batch);
            await gate.acquire(payload.length, persistOptions?.signal);
            let seq: number;
            try {
              assertOpen();
              seq = await log.append(payload, {
                timestampMs: batch.createdAtMs,
                source: WAL_SOURCE_BATCH,
              });
            } catch (error) {
              gate.release(payload.length);
              throw toLcError(
                error,
                'LC_ERR_BUFFER_IO',
                `persisting batch ${batch.id} failed`,
              );
            }
            const st = newBatchState({
              id: batch.id,
              seq,
              sinks: [...new Set(batch.sinks)],
              records: batch.records.length,
              bytes: payload.length,
              createdAtMs: batch.createdAtMs,
            });
            batches.set(batch.id, st);
            counts.persisted++;
            metrics.persisted.inc();
            if (st.pending.size === 0) settle(st);
          } finally {
            persisting.delete(batch.id);
          }
        })(),
      );
    },

    markDelivered(batchId, sink) {
      return track(
        (async () => {
          assertOpen();
          const st = batches.get(batchId);
          if (st === undefined || !st.pending.has(sink)) return;
          st.pending.delete(sink);
          st.settling.add(sink);
          st.parked.delete(sink);
          await appendEvent(st, {
            batchId,
            sink,
            kind: 'delivered',
            attempt: st.attempts[sink] ?? 0,
            atMs: clock.now(),
          });
        })(),
      );
    },

    markFailed(batchId, sink, error, attempt, nextAttemptAtMs) {
      return track(
        (async () => {
          assertOpen();
          const st = batches.get(batchId);
          if (st === undefined || !st.pending.has(sink)) return;
          const now = clock.now();
          applyWalEvent(st, {
            type: 'event',
            batchId,
            sink,
            kind: 'failed',
            attempt,
            atMs: now,
            error: { code: error.code, message: error.message },
            ...(nextAttemptAtMs === undefined ? {} : { nextAttemptAtMs }),
          });
          if (nextAttemptAtMs === undefined) park(st, sink, error);
          else st.parked.delete(sink);
          await appendEvent(st, {
            batchId,
            sink,
            kind: 'failed',
            attempt,
            atMs: now,
            error: { code: error.code, message: error.message },
            ...(nextAttemptAtMs === undefined ? {} : { nextAttemptAtMs }),
          });
        })(),
      );
    },

    deadLetter(batchId, sink, error, dlOptions) {
      return track(
        (async () => {
          assertOpen();
          const st = batches.get(batchId);
          if (st === undefined || !st.pending.has(sink)) return;
          await doDeadLetter(
            st,
            sink,
            error,
            dlOptions?.indexes,
            dlOptions?.attempts,
          );
        })(),
      );
    },

    async *recover() {
      assertOpen();
      // Every unsettled batch persisted before this call, whoever persisted
      // it: a previous run, or a consumer of this store that has stopped (a
      // dispatcher replaced by a config reload). Their sinks that are still
      // pending are handed over again; what the stopped consumer had
      // delivered is settled and skipped.
      const endSeq = log.nextSeq;
      for await (const entry of log.read({ source: WAL_SOURCE_BATCH })) {
        if (entry.seq >= endSeq || closed) return;
        let header: ReturnType<typeof decodeEntryHeader>;
        try {
          header = decodeEntryHeader(entry.payload);
        } catch {
          continue; // counted and acknowledged on open
        }
        if (header.type !== 'batch') continue;
        const st = batches.get(header.id);
        if (
          st === undefined ||
          st.seq !== entry.seq ||
          st.settled ||
          st.pending.size === 0
        )
          continue;
        const batch = decodeBatchEntry(entry.payload);
        yield {
          ...batch,
          pendingSinks: [...st.pending],
          attempts: { ...st.attempts },
        };
      }
    },

    pending() {
      return [...batches.values()].map(toPendingInfo);
    },

    async flush() {
      assertOpen();
      await Promise.allSettled([...inFlight]);
      await log.flush();
    },

    shutdown: once(async (_options?: LifecycleOptions) => {
      closed = true;
      loop.stop();
      gate.rejectAll(
        new LcError({
          code: 'LC_ERR_SHUT_DOWN',
          message:
            'batch persistence shut down while persist was waiting for room',
        }),
      );
      await Promise.allSettled([...inFlight]);
      await log.flush();
      await log.shutdown();
      if (ownsDeadLetters) await deadLetters.close();
    }),

    setRedeliveryHandler(handler) {
      redeliver = handler;
    },

    stats() {
      return {
        pendingBatches: batches.size,
        pendingBytes: gate.pendingBytes,
        waitingPersists: gate.waiting,
        ...counts,
      };
    },
  };
  metrics.observe(() => ({ batches: batches.size, bytes: gate.pendingBytes }));
  return persistence;
}
