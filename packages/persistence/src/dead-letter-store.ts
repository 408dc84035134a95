import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createDiskLog } from '@lc/buffer';
import {
  LcError,
  getOrCreateMetric,
  once,
  silentLogger,
  systemClock,
  toLcError,
} from '@lc/core';
import type {
  DeadLetterEntry,
  DeadLetterFilter,
  DeadLetterReplayOptions,
  DeadLetterStore,
  Instrumentation,
  LifecycleOptions,
  LogRecord,
} from '@lc/core';
import { Counter, Registry } from 'prom-client';
import {
  decodeDeadLetter,
  encodeDeadLetter,
  matchesFilter,
} from './internal/dead-letter-codec.js';
import type { DiskLogPort } from './internal/disk-log-port.js';
import { enumOption, numberOption, stringOption } from './internal/options.js';

const COMPONENT = 'createDeadLetterStore';
/** Default page size of {@link DeadLetterStore.list}. */
export const DEFAULT_DEAD_LETTER_LIST_LIMIT = 100;
/** Default records per write in {@link DeadLetterStore.replay}. */
export const DEFAULT_DEAD_LETTER_REPLAY_BATCH_SIZE = 500;
/** Default fsync policy of the dead-letter log. */
export const DEFAULT_DEAD_LETTER_FSYNC = 'always';
/** At most one dead-letter warning per sink this often, ms. */
const ADD_LOG_EVERY_MS = 10_000;
/** Default segment size of the dead-letter log (bytes). */
export const DEFAULT_DEAD_LETTER_SEGMENT_BYTES = 16 * 1024 * 1024;

/** Options for {@link createDeadLetterStore}. */
export interface DeadLetterStoreOptions extends Instrumentation {
  /** Directory of the store's disk log; created when missing. */
  directory: string;
  /**
   * When an `add` is durable: `always` (fsync before `add` resolves),
   * `interval` (within `fsyncIntervalMs`), `never` (OS decides).
   * @default 'always' — dead letters are rare and must not be lost
   */
  fsync?: 'always' | 'interval' | 'never';
  /** fsync period for `fsync: 'interval'`, ms. @default 1000 */
  fsyncIntervalMs?: number;
  /** Segment size of the underlying disk log, bytes. @default 16 MiB */
  maxSegmentBytes?: number;
  /** Optional AES-256-GCM key (32 bytes) for encryption at rest. */
  encryptionKey?: Buffer;
}

/** A {@link DeadLetterStore} with its counters. */
export interface DiskDeadLetterStore extends DeadLetterStore {
  /** Entries added since open (all sinks). */
  readonly added: number;
}

/**
 * Open (creating) a dead-letter store on a `@lc/buffer` disk log under
 * `options.directory`. Each entry is one log record tagged with its sink
 * and last-failure time, so reads filtered by sink or time skip whole
 * segments through the log's index. Removal (replay success, purge) is an
 * acknowledgement in the log; fully removed segments are deleted.
 *
 * Every `add` is counted (`lc_persistence_dead_letters_total{sink,code}`) and logged
 * at `warn` (at most once per sink every 10 s; the rest counted in the next
 * line). After `close`, every method rejects `LC_ERR_SHUT_DOWN`.
 */
export async function createDeadLetterStore(
  options: DeadLetterStoreOptions,
): Promise<DiskDeadLetterStore> {
  const directory = stringOption(COMPONENT, 'directory', options.directory);
  const fsync = enumOption(
    COMPONENT,
    'fsync',
    options.fsync,
    ['always', 'interval', 'never'],
    DEFAULT_DEAD_LETTER_FSYNC,
  );
  const maxSegmentBytes = numberOption(
    COMPONENT,
    'maxSegmentBytes',
    options.maxSegmentBytes,
    DEFAULT_DEAD_LETTER_SEGMENT_BYTES,
    { min: 4096 },
  );
  const log = await createDiskLog({
    directory: path.resolve(directory),
    fsync,
    maxSegmentBytes,
    name: 'dead-letters',
    ...(options.fsyncIntervalMs === undefined
      ? {}
      : { fsyncIntervalMs: options.fsyncIntervalMs }),
    ...(options.encryptionKey === undefined
      ? {}
      : { encryptionKey: options.encryptionKey }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  return openDeadLetterStore(log, options);
}

/** Build the store over an already open log (also used by tests). */
export function openDeadLetterStore(
  log: DiskLogPort,
  instrumentation: Instrumentation = {},
): DiskDeadLetterStore {
  const logger = (instrumentation.logger ?? silentLogger).child({
    component: 'dead-letters',
  });
  const clock = instrumentation.clock ?? systemClock;
  const registry = instrumentation.registry ?? new Registry();
  const addedTotal = getOrCreateMetric(
    registry,
    'lc_persistence_dead_letters_total',
    () =>
      new Counter({
        name: 'lc_persistence_dead_letters_total',
        help: 'Records moved to the dead-letter store',
        labelNames: ['sink', 'code'],
        registers: [registry],
      }),
  );
  const removedTotal = getOrCreateMetric(
    registry,
    'lc_persistence_dead_letters_removed_total',
    () =>
      new Counter({
        name: 'lc_persistence_dead_letters_removed_total',
        help: 'Dead-letter entries removed, by how (replayed, purged)',
        labelNames: ['how'],
        registers: [registry],
      }),
  );
  const idPrefix = `${clock.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  let nextId = 0;
  let added = 0;
  let closed = false;

  const assertOpen = (): void => {
    if (closed) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'dead-letter store is closed',
      });
    }
  };

  const append = (entry: DeadLetterEntry): Promise<number> =>
    log.append(encodeDeadLetter(entry), {
      timestampMs: entry.lastFailureAtMs,
      source: entry.sink,
    });

  async function* matching(
    filter: DeadLetterFilter,
    endSeq = Number.POSITIVE_INFINITY,
  ): AsyncGenerator<{ seq: number; entry: DeadLetterEntry }> {
    const readOptions: { source?: string; fromTimestampMs?: number } = {};
    if (filter.sink !== undefined) readOptions.source = filter.sink;
    if (filter.sinceMs !== undefined)
      readOptions.fromTimestampMs = filter.sinceMs;
    for await (const raw of log.read(readOptions)) {
      if (raw.seq >= endSeq) return;
      let entry: DeadLetterEntry;
      try {
        entry = decodeDeadLetter(raw.payload);
      } catch (error) {
        // Framing passed the log's checksum but the entry does not decode
        // (a future format?): keep it, report it, go on.
        logger.error(
          { err: error, seq: raw.seq },
          'undecodable dead-letter entry skipped',
        );
        continue;
      }
      if (matchesFilter(entry, filter)) yield { seq: raw.seq, entry };
    }
  }

  /** Per sink: when the last warning was logged, and entries held back since. */
  const logSlots = new Map<string, { atMs: number; suppressed: number }>();
  /**
   * One warning per sink at most every {@link ADD_LOG_EVERY_MS}, naming the
   * sink, the cause, after how many attempts, and that they are kept; the
   * entries held back meanwhile are counted in the next.
   */
  const logAdded = (entries: readonly Omit<DeadLetterEntry, 'id'>[]): void => {
    const first = entries[0] as Omit<DeadLetterEntry, 'id'>;
    const now = clock.now();
    let slot = logSlots.get(first.sink);
    if (slot === undefined) {
      slot = { atMs: -Infinity, suppressed: 0 };
      logSlots.set(first.sink, slot);
    }
    if (now - slot.atMs < ADD_LOG_EVERY_MS) {
      slot.suppressed += entries.length;
      return;
    }
    const n = entries.length;
    const attempts = first.attempts;
    logger.warn(
      {
        sink: first.sink,
        records: n,
        code: first.reason.code,
        cause: first.reason.message,
        attempts,
        ...(slot.suppressed > 0 ? { alsoSinceLastLog: slot.suppressed } : {}),
      },
      `sink ${first.sink}: ${n} record${n === 1 ? '' : 's'} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${first.reason.message}); dead-lettered (kept for replay)`,
    );
    slot.atMs = now;
    slot.suppressed = 0;
  };

  const store: DiskDeadLetterStore = {
    get added() {
      return added;
    },

    async add(entries) {
      assertOpen();
      if (entries.length === 0) return;
      const appends: Promise<number>[] = [];
      for (const e of entries) {
        const entry: DeadLetterEntry = { ...e, id: `${idPrefix}-${nextId++}` };
        appends.push(append(entry));
        addedTotal.inc({ sink: e.sink, code: e.reason.code });
      }
      await Promise.all(appends);
      added += entries.length;
      logAdded(entries);
    },

    async list(filter = {}) {
      assertOpen();
      const limit = filter.limit ?? DEFAULT_DEAD_LETTER_LIST_LIMIT;
      let skip = filter.offset ?? 0;
      const out: DeadLetterEntry[] = [];
      if (limit <= 0) return out;
      for await (const { entry } of matching(filter)) {
        if (skip > 0) {
          skip--;
          continue;
        }
        out.push(entry);
        if (out.length >= limit) break;
      }
      return out;
    },

    async count(filter = {}) {
      assertOpen();
      let n = 0;
      for await (const _ of matching(filter)) n++;
      return n;
    },

    async replay(replayOptions: DeadLetterReplayOptions) {
      assertOpen();
      const filter = replayOptions.filter ?? {};
      const batchSize = numberOption(
        'DeadLetterStore.replay',
        'batchSize',
        replayOptions.batchSize,
        DEFAULT_DEAD_LETTER_REPLAY_BATCH_SIZE,
        { min: 1 },
      );
      const signal = replayOptions.signal ?? new AbortController().signal;
      // Entries re-added by this replay (failures) land after endSeq and
      // are not offered again in the same call.
      const endSeq = log.nextSeq;
      let total = 0;
      for await (const _ of matching(filter, endSeq)) total++;
      let done = 0;
      let failed = 0;
      let pending: { seq: number; entry: DeadLetterEntry }[] = [];

      const send = async (): Promise<void> => {
        const chunk = pending;
        pending = [];
        const records: LogRecord[] = chunk.map((c) => c.entry.record);
        let failedIdx: Map<number, LcError>;
        try {
          const result = await replayOptions.sink.write(records, { signal });
          if (result.status === 'success') failedIdx = new Map();
          else if (result.status === 'partial')
            failedIdx = new Map(result.failed.map((f) => [f.index, f.error]));
          else failedIdx = new Map(chunk.map((_, i) => [i, result.error]));
        } catch (error) {
          const lcError = toLcError(
            error,
            'LC_ERR_INTERNAL',
            `sink "${replayOptions.sink.name}" threw`,
          );
          failedIdx = new Map(chunk.map((_, i) => [i, lcError]));
        }
        const now = clock.now();
        const reAdds: Promise<number>[] = [];
        chunk.forEach(({ entry }, i) => {
          const error = failedIdx.get(i);
          if (error === undefined) return;
          reAdds.push(
            append({
              ...entry,
              attempts: entry.attempts + 1,
              lastFailureAtMs: now,
              reason: { code: error.code, message: error.message },
            }),
          );
        });
        // The raised copy is durable before the old one goes.
        await Promise.all(reAdds);
        log.ack(chunk.map((c) => c.seq));
        const ok = chunk.length - failedIdx.size;
        removedTotal.inc({ how: 'replayed' }, ok);
        done += chunk.length;
        failed += failedIdx.size;
        replayOptions.onProgress?.({ done, total, failed });
      };

      for await (const item of matching(filter, endSeq)) {
        if (signal.aborted) break;
        pending.push(item);
        if (pending.length >= batchSize) await send();
      }
      if (pending.length > 0 && !signal.aborted) await send();
      await log.flush();
      logger.info(
        { sink: replayOptions.sink.name, replayed: done - failed, failed },
        'dead-letter replay finished',
      );
      return { replayed: done - failed, failed };
    },

    async purge(filter = {}) {
      assertOpen();
      const seqs: number[] = [];
      for await (const { seq } of matching(filter)) seqs.push(seq);
      if (seqs.length > 0) log.ack(seqs);
      await log.flush();
      removedTotal.inc({ how: 'purged' }, seqs.length);
      logger.info({ count: seqs.length, filter }, 'dead-letter entries purged');
      return seqs.length;
    },

    close: once(async (_options?: LifecycleOptions) => {
      closed = true;
      await log.shutdown();
    }),
  };
  return store;
}
