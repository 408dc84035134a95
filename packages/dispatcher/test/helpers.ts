import { afterEach } from 'vitest';
import type { Dispatcher } from '../src/dispatcher.js';
import { freezeLabels, LcError, WriteResults } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import type {
  BatchStore,
  Cursor,
  DeadLetterEntry,
  DeadLetterStore,
  Labels,
  LogRecord,
  PendingBatchInfo,
  PersistedBatch,
  RecoveredBatch,
  Sink,
  SourceRef,
} from '@lc/core';

const sources = new Map<string, SourceRef>();

/** One SourceRef object per id, like real sources. */
export function source(id: string, kind = 'file'): SourceRef {
  const key = `${kind}:${id}`;
  let ref = sources.get(key);
  if (ref === undefined) {
    ref = Object.freeze({ kind, id });
    sources.set(key, ref);
  }
  return ref;
}

const labelCache = new Map<string, Labels>();
export function labels(app: string): Labels {
  let l = labelCache.get(app);
  if (l === undefined) {
    l = freezeLabels({ app });
    labelCache.set(app, l);
  }
  return l;
}

/** A file record whose cursor offset is `n`. */
export function rec(
  n: number,
  src = 'a',
  app = 'web',
  line?: string,
): LogRecord {
  return {
    line: line ?? `line ${src} ${n}`,
    labels: labels(app),
    timestampMs: 1_700_000_000_000 + n,
    timestampNanos: 0,
    source: source(src),
    cursor: { offset: n, line: n },
  };
}

export function recs(
  from: number,
  count: number,
  src = 'a',
  app = 'web',
): LogRecord[] {
  return Array.from({ length: count }, (_, i) => rec(from + i, src, app));
}

/** Records every commit; asserts they never go backwards per source. */
export function createRecordingCommitter(): {
  commit(source: SourceRef, cursor: Cursor): void;
  last(id: string, kind?: string): number | undefined;
  readonly count: number;
} {
  const last = new Map<string, number>();
  let count = 0;
  return {
    commit(src, cursor) {
      const offset = (cursor as { offset: number }).offset;
      const key = `${src.kind}:${src.id}`;
      const prev = last.get(key);
      if (prev !== undefined && offset < prev) {
        throw new Error(
          `commit went backwards for ${key}: ${prev} → ${offset}`,
        );
      }
      last.set(key, offset);
      count++;
    },
    last: (id, kind = 'file') => last.get(`${kind}:${id}`),
    get count() {
      return count;
    },
  };
}

/** Minimal in-memory DeadLetterStore (optionally failing on demand). */
export function createMemoryDeadLetters(): DeadLetterStore & {
  entries: DeadLetterEntry[];
  failNext: number;
} {
  const entries: DeadLetterEntry[] = [];
  let id = 0;
  const store = {
    entries,
    failNext: 0,
    async add(list: readonly Omit<DeadLetterEntry, 'id'>[]) {
      if (store.failNext > 0) {
        store.failNext--;
        throw new LcError({ code: 'LC_ERR_DLQ', message: 'dlq down' });
      }
      for (const e of list) entries.push({ ...e, id: String(id++) });
    },
    async list() {
      return [...entries];
    },
    async count() {
      return entries.length;
    },
    async replay() {
      return { replayed: 0, failed: 0 };
    },
    async purge() {
      const n = entries.length;
      entries.length = 0;
      return n;
    },
    async close() {},
  };
  return store;
}

interface StoredBatch {
  batch: PersistedBatch;
  pending: Set<string>;
  attempts: Record<string, number>;
}

/** Minimal in-memory BatchStore that records the order of calls. */
export function createMemoryBatchStore(
  recovered: RecoveredBatch[] = [],
  deadLetters = createMemoryDeadLetters(),
): BatchStore & {
  events: string[];
  batches: Map<string, StoredBatch>;
  deadLetters: ReturnType<typeof createMemoryDeadLetters>;
} {
  const events: string[] = [];
  const batches = new Map<string, StoredBatch>();
  for (const rb of recovered) {
    batches.set(rb.id, {
      batch: rb,
      pending: new Set(rb.pendingSinks),
      attempts: { ...rb.attempts },
    });
  }
  const settle = (id: string, sink: string): void => {
    const b = batches.get(id);
    if (b === undefined) throw new Error(`unknown batch ${id}`);
    b.pending.delete(sink);
    if (b.pending.size === 0) batches.delete(id);
  };
  return {
    events,
    batches,
    deadLetters,
    async persist(batch) {
      events.push(`persist ${batch.id}`);
      batches.set(batch.id, {
        batch,
        pending: new Set(batch.sinks),
        attempts: {},
      });
    },
    async markDelivered(id, sink) {
      events.push(`delivered ${id} ${sink}`);
      settle(id, sink);
    },
    async markFailed(id, sink, _error, attempt) {
      events.push(`failed ${id} ${sink} ${attempt}`);
      const b = batches.get(id);
      if (b !== undefined) b.attempts[sink] = attempt;
    },
    async deadLetter(id, sink, error, options) {
      events.push(`deadLetter ${id} ${sink}`);
      const b = batches.get(id);
      if (b === undefined) throw new Error(`unknown batch ${id}`);
      const idx = options?.indexes ?? b.batch.records.map((_, i) => i);
      await deadLetters.add(
        idx.map((i) => ({
          record: b.batch.records[i] as LogRecord,
          sink,
          reason: { code: error.code, message: error.message },
          attempts: options?.attempts ?? 1,
          firstFailureAtMs: 0,
          lastFailureAtMs: 0,
        })),
      );
      settle(id, sink);
    },
    async *recover() {
      for (const rb of recovered) yield rb;
    },
    pending(): PendingBatchInfo[] {
      return [...batches.values()].map((b) => ({
        id: b.batch.id,
        pendingSinks: [...b.pending],
        attempts: b.attempts,
        records: b.batch.records.length,
        bytes: 0,
        createdAtMs: b.batch.createdAtMs,
      }));
    },
    async flush() {},
    async shutdown() {},
  };
}

/** Poll until `check` is true (real time). */
export async function eventually(
  check: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The offset of a record made by {@link rec} (its cursor is `{ offset }`). */
export const offset = (r: LogRecord): number =>
  (r.cursor as { offset: number }).offset;

/**
 * Temp directories for a test file: `make()` creates one, `cleanup()`
 * (from `afterEach`) removes every one made since.
 */
export function tempDirs(prefix: string): {
  make(): Promise<string>;
  cleanup(): Promise<void>;
} {
  const made: TempDir[] = [];
  return {
    async make() {
      const t = await createTempDir(prefix);
      made.push(t);
      return t.path;
    },
    async cleanup() {
      await Promise.all(made.splice(0).map((t) => t.cleanup()));
    },
  };
}

/** `from`, `from + 1`, …, `to`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A sink that refuses (retryable, retry after 5 ms) until `up`, recording what it took. */
export function outageSink(
  name = 'out',
): Sink & { up: boolean; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = {
    name,
    up: false,
    records,
    async write(batch: readonly LogRecord[]) {
      if (!sink.up)
        return WriteResults.retryable(
          new LcError({ code: 'LC_ERR_SINK_UNAVAILABLE', message: 'down' }),
          5,
        );
      records.push(...batch);
      return WriteResults.success();
    },
    async flush() {},
    async shutdown() {},
  };
  return sink;
}

/**
 * What a test file's dispatchers and temporary directories need after each
 * test: `live` dispatchers are shut down, `dirs` (under `prefix`) removed.
 */
export function dispatcherScope(prefix: string): {
  readonly live: Dispatcher[];
  readonly dirs: ReturnType<typeof tempDirs>;
} {
  const live: Dispatcher[] = [];
  const dirs = tempDirs(prefix);
  afterEach(async () => {
    await Promise.all(live.splice(0).map((d) => d.shutdown()));
    await dirs.cleanup();
  });
  return { live, dirs };
}
