import { LcError, estimateRecordBytes, once } from '@lc/core';
import type {
  BatchStore,
  DeadLetterEntry,
  DeadLetterStore,
  PendingBatchInfo,
  PersistedBatch,
} from '@lc/core';
import { createInMemoryDeadLetterStore } from './in-memory-dead-letter-store.js';

interface HeldBatch {
  readonly batch: PersistedBatch;
  readonly pending: Set<string>;
  readonly attempts: Record<string, number>;
  nextAttemptAtMs?: number;
  lastError?: { code: string; message: string };
}

/**
 * The "disk" of an in-memory batch store: pass the same object to several
 * {@link createInMemoryBatchStore} calls to simulate a restart.
 */
export interface InMemoryBatchStoreStorage {
  readonly batches: Map<string, HeldBatch>;
  readonly deadLetters: DeadLetterEntry[];
}

/** Fresh storage for {@link createInMemoryBatchStore}. */
export function createInMemoryBatchStoreStorage(): InMemoryBatchStoreStorage {
  return { batches: new Map(), deadLetters: [] };
}

/** An in-memory {@link BatchStore} with its dead-letter store. */
export interface InMemoryBatchStore extends BatchStore {
  readonly deadLetters: DeadLetterStore;
}

/**
 * An in-memory {@link BatchStore} for dispatcher tests: same semantics as
 * `createBatchPersistence` (settling, `recover` hands over every unsettled batch on each call,
 * `LC_ERR_SHUT_DOWN` after shutdown), no durability, no backpressure.
 */
export function createInMemoryBatchStore(
  options: { storage?: InMemoryBatchStoreStorage } = {},
): InMemoryBatchStore {
  const storage = options.storage ?? createInMemoryBatchStoreStorage();
  const deadLetters = createInMemoryDeadLetterStore({
    entries: storage.deadLetters,
  });
  let closed = false;
  const assertOpen = (): void => {
    if (closed)
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'in-memory batch store is shut down',
      });
  };
  const settleSink = (id: string, sink: string): void => {
    const held = storage.batches.get(id);
    if (held === undefined) return;
    held.pending.delete(sink);
    if (held.pending.size === 0) storage.batches.delete(id);
  };
  return {
    deadLetters,
    async persist(batch) {
      assertOpen();
      if (storage.batches.has(batch.id)) return;
      const held: HeldBatch = {
        batch,
        pending: new Set(batch.sinks),
        attempts: {},
      };
      if (held.pending.size > 0) storage.batches.set(batch.id, held);
    },
    async markDelivered(batchId, sink) {
      assertOpen();
      settleSink(batchId, sink);
    },
    async markFailed(batchId, sink, error, attempt, nextAttemptAtMs) {
      assertOpen();
      const held = storage.batches.get(batchId);
      if (held === undefined || !held.pending.has(sink)) return;
      held.attempts[sink] = Math.max(held.attempts[sink] ?? 0, attempt);
      held.lastError = { code: error.code, message: error.message };
      held.nextAttemptAtMs = nextAttemptAtMs;
    },
    async deadLetter(batchId, sink, error, dlOptions) {
      assertOpen();
      const held = storage.batches.get(batchId);
      if (held === undefined || !held.pending.has(sink)) return;
      const now = Date.now();
      const indexes = dlOptions?.indexes ?? held.batch.records.map((_, i) => i);
      await deadLetters.add(
        indexes.flatMap((i) => {
          const record = held.batch.records[i];
          return record === undefined
            ? []
            : [
                {
                  record,
                  sink,
                  reason: { code: error.code, message: error.message },
                  attempts: dlOptions?.attempts ?? held.attempts[sink] ?? 0,
                  firstFailureAtMs: now,
                  lastFailureAtMs: now,
                },
              ];
        }),
      );
      settleSink(batchId, sink);
    },
    async *recover() {
      assertOpen();
      // Every unsettled batch persisted before the call (see BatchStore).
      const ids = [...storage.batches.keys()];
      for (const id of ids) {
        const held = storage.batches.get(id);
        if (held === undefined || held.pending.size === 0) continue;
        yield {
          ...held.batch,
          pendingSinks: [...held.pending],
          attempts: { ...held.attempts },
        };
      }
    },
    pending() {
      return [...storage.batches.values()].map((held): PendingBatchInfo => {
        const info: {
          -readonly [K in keyof PendingBatchInfo]: PendingBatchInfo[K];
        } = {
          id: held.batch.id,
          pendingSinks: [...held.pending],
          attempts: { ...held.attempts },
          records: held.batch.records.length,
          bytes: held.batch.records.reduce(
            (n, r) => n + estimateRecordBytes(r),
            0,
          ),
          createdAtMs: held.batch.createdAtMs,
        };
        if (held.nextAttemptAtMs !== undefined)
          info.nextAttemptAtMs = held.nextAttemptAtMs;
        if (held.lastError !== undefined) info.lastError = held.lastError;
        return info;
      });
    },
    async flush() {
      assertOpen();
    },
    shutdown: once(async () => {
      closed = true;
      await deadLetters.close();
    }),
  };
}
