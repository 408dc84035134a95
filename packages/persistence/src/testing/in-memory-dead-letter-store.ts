import { LcError, once, toLcError } from '@lc/core';
import type { DeadLetterEntry, DeadLetterStore, LogRecord } from '@lc/core';
import { matchesFilter } from '../internal/dead-letter-codec.js';

// Ids stay unique across stores sharing one `entries` array.
let nextId = 0;

/** An in-memory {@link DeadLetterStore} for tests. */
export interface InMemoryDeadLetterStore extends DeadLetterStore {
  /** Current entries, oldest first. */
  readonly entries: readonly DeadLetterEntry[];
  /** True after `close`. */
  readonly isClosed: boolean;
}

/**
 * Create an in-memory dead-letter store with the same semantics as the disk
 * one (filters, replay with progress, purge, `LC_ERR_SHUT_DOWN` after
 * close), for dispatcher and agent tests. `entries` is shared by reference
 * if given, so a "reopened" store sees the same entries.
 */
export function createInMemoryDeadLetterStore(
  options: { entries?: DeadLetterEntry[] } = {},
): InMemoryDeadLetterStore {
  const entries = options.entries ?? [];
  let closed = false;
  const assertOpen = (): void => {
    if (closed) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'in-memory dead-letter store is closed',
      });
    }
  };
  return {
    get entries() {
      return entries;
    },
    get isClosed() {
      return closed;
    },
    async add(added) {
      assertOpen();
      for (const e of added) entries.push({ ...e, id: `mem-${nextId++}` });
    },
    async list(filter = {}) {
      assertOpen();
      const offset = filter.offset ?? 0;
      const limit = filter.limit ?? 100;
      return entries
        .filter((e) => matchesFilter(e, filter))
        .slice(offset, offset + Math.max(0, limit));
    },
    async count(filter = {}) {
      assertOpen();
      return entries.filter((e) => matchesFilter(e, filter)).length;
    },
    async replay(replayOptions) {
      assertOpen();
      const chosen = entries.filter((e) =>
        matchesFilter(e, replayOptions.filter ?? {}),
      );
      const batchSize = replayOptions.batchSize ?? 500;
      const signal = replayOptions.signal ?? new AbortController().signal;
      let done = 0;
      let failed = 0;
      for (let i = 0; i < chosen.length && !signal.aborted; i += batchSize) {
        const chunk = chosen.slice(i, i + batchSize);
        const records: LogRecord[] = chunk.map((e) => e.record);
        const failures = new Map<number, LcError>();
        try {
          const result = await replayOptions.sink.write(records, { signal });
          if (result.status === 'partial')
            for (const f of result.failed) failures.set(f.index, f.error);
          else if (result.status !== 'success')
            chunk.forEach((_, k) => failures.set(k, result.error));
        } catch (error) {
          const lcError = toLcError(error, 'LC_ERR_INTERNAL', 'sink threw');
          chunk.forEach((_, k) => failures.set(k, lcError));
        }
        chunk.forEach((entry, k) => {
          const at = entries.indexOf(entry);
          const error = failures.get(k);
          if (error === undefined) {
            entries.splice(at, 1);
          } else {
            entries[at] = {
              ...entry,
              attempts: entry.attempts + 1,
              lastFailureAtMs: Date.now(),
              reason: { code: error.code, message: error.message },
            };
          }
        });
        done += chunk.length;
        failed += failures.size;
        replayOptions.onProgress?.({ done, total: chosen.length, failed });
      }
      return { replayed: done - failed, failed };
    },
    async purge(filter = {}) {
      assertOpen();
      let removed = 0;
      for (let i = entries.length - 1; i >= 0; i--) {
        if (matchesFilter(entries[i] as DeadLetterEntry, filter)) {
          entries.splice(i, 1);
          removed++;
        }
      }
      return removed;
    },
    close: once(async () => {
      closed = true;
    }),
  };
}
