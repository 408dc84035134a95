import { LcError, WriteResults } from '@lc/core';
import type { Logger, LogRecord, Sink, WriteResult } from '@lc/core';
import { createFakeClock, createInMemorySink } from '@lc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBatchStore,
  createRecordingCommitter,
  eventually,
  recs,
  tempDirs,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher, DispatcherShutdown } from './dispatcher.js';

// shutdown() resolves what it left behind and where (batch store, spill,
// memory only; lost when nothing can read it again), and logs none of it:
// the caller says it in one line. Real dispatchers in front of sinks that
// are down (retryable) or never answer.

const dirs = tempDirs('lc-shutdown-summary-');
const live: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((d) => d.shutdown()));
  await dirs.cleanup();
});

/** A sink that never answers (until its write is aborted). */
function silentSink(name = 'loki'): Sink & { writes: number } {
  const sink = {
    name,
    writes: 0,
    write(_batch: readonly LogRecord[], opts: { signal?: AbortSignal }) {
      sink.writes++;
      return new Promise<WriteResult>((resolve) =>
        opts.signal?.addEventListener('abort', () =>
          resolve(
            WriteResults.retryable(
              new LcError({ code: 'LC_ERR_ABORTED', message: 'aborted' }),
            ),
          ),
        ),
      );
    },
    async flush() {},
    async shutdown() {},
  };
  return sink;
}

/** A sink that is down: every write is retryable. */
function downSink(name = 'loki'): Sink & { writes: number } {
  const sink = {
    name,
    writes: 0,
    async write() {
      sink.writes++;
      return WriteResults.retryable(
        new LcError({
          code: 'LC_ERR_SINK_UNAVAILABLE',
          message: 'connect ECONNREFUSED 127.0.0.1:3100',
        }),
      );
    },
    async flush() {},
    async shutdown() {},
  };
  return sink;
}

/** Every line logged at warn or above. */
function warnings(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push(`${level} ${typeof obj === 'string' ? obj : (msg ?? '')}`);
    };
  const logger: Logger & { lines: string[] } = {
    lines,
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  };
  return logger;
}

/** HTTP-ingest-like records: no cursor, so no source can read them again. */
const cursorless = (n: number): LogRecord[] =>
  recs(100, n, 'http-ingest', 'web').map((r) => {
    const { cursor: _cursor, ...rest } = r;
    return { ...rest, source: { kind: 'http', id: 'http-ingest' } };
  });

describe('createDispatcher', () => {
  describe('shutdown', () => {
    it('should resolve drained with nothing left when every record was delivered', async () => {
      const sink = createInMemorySink({ name: 'file' });
      const d = createDispatcher({ sinks: [sink], batchTimeoutMs: 1 });
      live.push(d);
      await d.start();
      d.dispatchMany(recs(0, 5));
      const summary = await d.shutdown();
      expect(summary).toEqual<DispatcherShutdown>({
        outcome: 'drained',
        unsettledRecords: 0,
        persistedRecords: 0,
        spilledRecords: 0,
        inMemoryRecords: 0,
        lostRecords: 0,
        sinks: [],
      });
      expect(sink.records).toHaveLength(5);
      // Idempotent: the same result again.
      expect(await d.shutdown()).toBe(summary);
    });

    it('should resolve held, without waiting out the timeout, when what is left is in the batch store for a sink that is down', async () => {
      const clock = createFakeClock();
      const sink = downSink();
      const store = createMemoryBatchStore();
      const logger = warnings();
      const d = createDispatcher({
        sinks: [sink],
        clock,
        logger,
        batchStore: store,
        persist: 'on_failure',
        batchMaxRecords: 4,
        circuit: { failureThreshold: 1, openMs: 3_600_000 },
        retry: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
        // Never reached on the fake clock: only "held" can end the wait.
        shutdownTimeoutMs: 60_000,
      });
      live.push(d);
      await d.start();
      d.dispatchMany(recs(0, 8));
      await eventually(() => store.batches.size === 2);
      await eventually(() => d.stats().sinks[0]?.circuit === 'open');
      const before = logger.lines.length;
      expect(await d.shutdown()).toEqual<DispatcherShutdown>({
        outcome: 'held',
        unsettledRecords: 8,
        persistedRecords: 8,
        spilledRecords: 0,
        inMemoryRecords: 0,
        lostRecords: 0,
        sinks: ['loki'],
      });
      expect(logger.lines.slice(before)).toEqual([]);
    });

    it('should count as persisted only the records of a stored batch that are not delivered yet', async () => {
      const store = createMemoryBatchStore();
      const retry = new LcError({
        code: 'LC_ERR_SINK_RATE_LIMITED',
        message: '429',
      });
      let calls = 0;
      const sink: Sink = {
        name: 'loki',
        async write() {
          calls++;
          // First half taken, then the sink goes down.
          if (calls === 1)
            return WriteResults.partial(
              [2, 3].map((index) => ({ index, error: retry, retryable: true })),
              4,
            );
          return WriteResults.retryable(retry);
        },
        async flush() {},
        async shutdown() {},
      };
      const d = createDispatcher({
        sinks: [sink],
        batchStore: store,
        persist: 'on_failure',
        batchMaxRecords: 4,
        circuit: { failureThreshold: 1, openMs: 3_600_000 },
        retry: { baseDelayMs: 1, maxDelayMs: 1 },
        shutdownTimeoutMs: 60_000,
      });
      live.push(d);
      await d.start();
      d.dispatchMany(recs(0, 4));
      await eventually(() => d.stats().sinks[0]?.circuit === 'open');
      await eventually(() => store.batches.size === 1);
      expect(await d.shutdown()).toMatchObject({
        outcome: 'held',
        unsettledRecords: 2,
        persistedRecords: 2,
        inMemoryRecords: 0,
      });
    });

    it('should resolve timed out with what is only in memory, count records without a cursor as lost, commit nothing past them and log nothing', async () => {
      const clock = createFakeClock();
      const sink = silentSink();
      const committer = createRecordingCommitter();
      const logger = warnings();
      const d = createDispatcher({
        sinks: [sink],
        clock,
        logger,
        committer,
        batchMaxRecords: 5,
        sendTimeoutMs: 3_600_000,
        shutdownTimeoutMs: 10_000,
      });
      live.push(d);
      await d.start();
      d.dispatchMany([...recs(0, 5), ...cursorless(3)]);
      // One batch in flight, the next one behind it (same stream) once the
      // batch timeout closes it.
      await eventually(() => sink.writes === 1);
      clock.advance(1000);
      await eventually(() => d.stats().liveBatches === 2);
      let summary: DispatcherShutdown | undefined;
      const stopping = d.shutdown().then((s) => (summary = s));
      // Only the fake clock's 10 s can end the wait: the sink never answers.
      while (summary === undefined) {
        clock.advance(1000);
        await new Promise((r) => setTimeout(r, 5));
      }
      await stopping;
      expect(summary).toEqual<DispatcherShutdown>({
        outcome: 'timed out',
        unsettledRecords: 8,
        persistedRecords: 0,
        spilledRecords: 0,
        inMemoryRecords: 8,
        lostRecords: 3,
        sinks: ['loki'],
      });
      expect(committer.last('a')).toBeUndefined();
      expect(d.stats().dropped).toMatchObject({ shutdown_timeout: 3 });
      expect(logger.lines).toEqual([]);
    });

    it('should count in-flight records kept in the batch store as persisted when it times out', async () => {
      const clock = createFakeClock();
      const sink = silentSink();
      const store = createMemoryBatchStore();
      const d = createDispatcher({
        sinks: [sink],
        clock,
        batchStore: store,
        persist: 'always',
        batchMaxRecords: 3,
        sendTimeoutMs: 3_600_000,
        shutdownTimeoutMs: 5_000,
      });
      live.push(d);
      await d.start();
      d.dispatchMany(cursorless(6));
      // The first batch in flight, the second behind it (same stream).
      await eventually(() => sink.writes === 1);
      await eventually(() => store.batches.size === 2);
      let summary: DispatcherShutdown | undefined;
      const stopping = d.shutdown().then((s) => (summary = s));
      while (summary === undefined) {
        clock.advance(1000);
        await new Promise((r) => setTimeout(r, 5));
      }
      await stopping;
      expect(summary).toMatchObject({
        outcome: 'timed out',
        unsettledRecords: 6,
        persistedRecords: 6,
        inMemoryRecords: 0,
        lostRecords: 0,
      });
      expect(store.batches.size).toBe(2);
    });

    it('should count what waits in the spill and in the batch store when a sink is down', async () => {
      const directory = await dirs.make();
      const sink = downSink();
      const store = createMemoryBatchStore();
      const d = createDispatcher({
        sinks: [sink],
        batchStore: store,
        persist: 'on_failure',
        maxQueueRecords: 10,
        batchMaxRecords: 5,
        batchTimeoutMs: 1,
        circuit: { failureThreshold: 1, openMs: 3_600_000 },
        retry: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
        spill: { trigger: 'backpressure', directory },
        shutdownTimeoutMs: 60_000,
      });
      live.push(d);
      await d.start();
      d.dispatchMany(recs(0, 40));
      await eventually(() => d.stats().spilledRecords === 30);
      const persisted = (): number =>
        store.pending().reduce((n, b) => n + b.records, 0);
      await eventually(() => persisted() === 10);
      const summary = await d.shutdown();
      expect(summary).toEqual<DispatcherShutdown>({
        outcome: 'held',
        unsettledRecords: 40,
        persistedRecords: 10,
        spilledRecords: 30,
        inMemoryRecords: 0,
        lostRecords: 0,
        sinks: ['loki'],
      });
    });
  });
});
