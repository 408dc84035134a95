import { EMPTY_LABELS, LcError, WriteResults } from '@lc/core';
import type { LogRecord, RecoveredBatch, Sink } from '@lc/core';
import { createInMemorySink } from '@lc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBatchStore,
  createMemoryDeadLetters,
  createRecordingCommitter,
  eventually,
  rec,
  recs,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';
import { backoffDelayMs } from './internal/backoff.js';

const live: Dispatcher[] = [];
function track<T extends Dispatcher>(d: T): T {
  live.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(live.splice(0).map((d) => d.shutdown()));
});

const unavailable = (retryAfterMs?: number) =>
  WriteResults.retryable(
    new LcError({ code: 'LC_ERR_SINK_UNAVAILABLE', message: 'down' }),
    retryAfterMs,
  );
const rejected = () =>
  WriteResults.failure(
    new LcError({
      code: 'LC_ERR_SINK_REJECTED',
      message: 'bad request',
      details: { status: 400 },
    }),
  );
const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };
const offsets = (records: readonly LogRecord[]) =>
  records.map((r) => (r.cursor as { offset: number }).offset);

describe('backoffDelayMs', () => {
  it('should grow exponentially up to maxMs with full jitter and honour retryAfterMs', () => {
    expect(backoffDelayMs(1, 100, 1000, undefined, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, 100, 1000, undefined, () => 0.999)).toBe(399);
    expect(backoffDelayMs(10, 100, 1000, undefined, () => 0.999)).toBe(999);
    expect(backoffDelayMs(10, 100, 1000, undefined, () => 0)).toBe(0);
    expect(backoffDelayMs(1, 100, 1000, 5000, () => 0.5)).toBe(5000);
  });
});

describe('createDispatcher', () => {
  describe('retries', () => {
    it('should wait at least retryAfterMs before the next attempt', async () => {
      const sink = createInMemorySink();
      sink.enqueueBehaviour(unavailable(250));
      const times: number[] = [];
      const timed: Sink = {
        ...sink,
        write: (batch, o) => {
          times.push(Date.now());
          return sink.write(batch, o);
        },
      };
      const d = track(
        createDispatcher({ sinks: [timed], batchTimeoutMs: 0, ...fast }),
      );
      d.dispatch(rec(1));
      await d.flush();
      expect(times).toHaveLength(2);
      expect(
        (times[1] as number) - (times[0] as number),
      ).toBeGreaterThanOrEqual(240);
    });

    it('should dead-letter after retry.maxAttempts with the reason, then commit', async () => {
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const deadLetters = createMemoryDeadLetters();
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [sink],
          deadLetters,
          committer,
          batchTimeoutMs: 0,
          retry: { baseDelayMs: 2, maxDelayMs: 5, maxAttempts: 3 },
        }),
      );
      d.dispatch(rec(1));
      await d.flush();
      expect(sink.calls).toHaveLength(3);
      expect(deadLetters.entries).toHaveLength(1);
      expect(deadLetters.entries[0]).toMatchObject({
        sink: 'memory',
        attempts: 3,
        reason: { code: 'LC_ERR_SINK_UNAVAILABLE' },
      });
      expect(committer.last('a')).toBe(1);
    });

    it('should dead-letter a permanent failure at once without tripping the circuit', async () => {
      const sink = createInMemorySink({ behaviour: rejected() });
      const deadLetters = createMemoryDeadLetters();
      const d = track(
        createDispatcher({
          sinks: [sink],
          deadLetters,
          batchTimeoutMs: 0,
          circuit: { failureThreshold: 1 },
        }),
      );
      d.dispatchMany(recs(1, 3));
      await d.flush();
      expect(sink.calls).toHaveLength(3);
      expect(deadLetters.entries.map((e) => e.reason)).toEqual([
        { code: 'LC_ERR_SINK_REJECTED', message: 'bad request', status: 400 },
        { code: 'LC_ERR_SINK_REJECTED', message: 'bad request', status: 400 },
        { code: 'LC_ERR_SINK_REJECTED', message: 'bad request', status: 400 },
      ]);
      expect(d.stats().sinks[0]?.circuit).toBe('closed');
    });

    it('should deliver, retry and dead-letter the parts of a partial result', async () => {
      const sink = createInMemorySink();
      sink.enqueueBehaviour(
        WriteResults.partial(
          [
            {
              index: 1,
              retryable: true,
              error: new LcError({
                code: 'LC_ERR_SINK_RATE_LIMITED',
                message: '429',
              }),
            },
            {
              index: 3,
              retryable: false,
              error: new LcError({
                code: 'LC_ERR_RECORD_TOO_LARGE',
                message: 'big',
              }),
            },
          ],
          4,
        ),
      );
      const deadLetters = createMemoryDeadLetters();
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [sink],
          deadLetters,
          committer,
          batchMaxRecords: 4,
          batchTimeoutMs: 10_000,
          ...fast,
        }),
      );
      d.dispatchMany(recs(1, 4));
      await d.flush();
      expect(offsets(sink.records)).toEqual([1, 3, 2]);
      expect(sink.calls[1]?.batch.map((r) => r.line)).toEqual(['line a 2']);
      expect(offsets(deadLetters.entries.map((e) => e.record))).toEqual([4]);
      expect(deadLetters.entries[0]?.reason.code).toBe(
        'LC_ERR_RECORD_TOO_LARGE',
      );
      expect(committer.last('a')).toBe(4);
    });

    it('should count records it cannot dead-letter when no store is configured', async () => {
      const sink = createInMemorySink({ behaviour: 'failure' });
      const d = track(createDispatcher({ sinks: [sink], batchTimeoutMs: 0 }));
      d.dispatch(rec(1));
      await d.flush();
      expect(d.stats().dropped.no_dead_letter_store).toBe(1);
    });

    it('should retry a failed dead-letter write instead of losing the records', async () => {
      const sink = createInMemorySink({ behaviour: 'failure' });
      const deadLetters = createMemoryDeadLetters();
      deadLetters.failNext = 2;
      const errors: unknown[] = [];
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [sink],
          deadLetters,
          committer,
          batchTimeoutMs: 0,
          onError: (e) => errors.push(e),
          ...fast,
        }),
      );
      d.dispatch(rec(1));
      await d.flush();
      expect(deadLetters.entries).toHaveLength(1);
      expect(errors).toHaveLength(2);
      expect(committer.last('a')).toBe(1);
    });

    it('should time out a hanging sink through its AbortSignal and retry', async () => {
      let calls = 0;
      let sawAbort = false;
      const sink: Sink = {
        name: 'hang',
        write: (_batch, { signal }) => {
          calls++;
          if (calls === 1) {
            // Ignores the signal entirely: must not hold the worker.
            signal.addEventListener('abort', () => {
              sawAbort = true;
            });
            return new Promise(() => undefined);
          }
          return Promise.resolve(WriteResults.success());
        },
        flush: async () => undefined,
        shutdown: async () => undefined,
      };
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchTimeoutMs: 0,
          sendTimeoutMs: 50,
          ...fast,
        }),
      );
      d.dispatch(rec(1));
      await d.flush();
      expect(calls).toBe(2);
      expect(sawAbort).toBe(true);
    });

    it('should backpressure when the retry queue is full', async () => {
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchTimeoutMs: 0,
          retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, maxQueueSize: 2 },
          circuit: { failureThreshold: 0 },
          sinkOptions: { memory: { ordering: 'none' } },
          random: () => 0.99,
          shutdownTimeoutMs: 0,
        }),
      );
      expect(d.dispatch(rec(1))).toBe(true);
      expect(d.dispatch(rec(2))).toBe(true);
      await eventually(() => d.stats().retryQueueSize === 2);
      expect(d.stats().writable).toBe(false);
      expect(d.dispatch(rec(3))).toBe(false);
    });
  });

  describe('circuit', () => {
    it('should open after failureThreshold retryable failures, stop writing, then probe', async () => {
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchTimeoutMs: 0,
          sinkOptions: { memory: { ordering: 'none' } },
          circuit: { failureThreshold: 3, openMs: 300 },
          retry: { baseDelayMs: 1, maxDelayMs: 1 },
        }),
      );
      d.dispatchMany(recs(1, 5));
      await eventually(() => d.stats().sinks[0]?.circuit === 'open');
      const atOpen = sink.calls.length;
      await new Promise((r) => setTimeout(r, 150));
      expect(sink.calls.length).toBe(atOpen);
      sink.setBehaviour('success');
      await d.flush();
      expect(sink.records).toHaveLength(5);
      expect(d.stats().sinks[0]?.circuit).toBe('closed');
    });
    it('should probe with a backed-off retry and send every retry once the sink is back, not after the backoff', async () => {
      // Every batch backs off ~60 s (jitter pinned to the ceiling); nothing
      // new arrives. The half-open probe takes the earliest retry, and its
      // success closes the circuit and releases the rest at once.
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchTimeoutMs: 0,
          sinkOptions: { memory: { ordering: 'none' } },
          circuit: { failureThreshold: 2, openMs: 50 },
          retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
          random: () => 0.999,
          shutdownTimeoutMs: 0,
        }),
      );
      d.dispatchMany(recs(1, 5));
      await eventually(() => d.stats().sinks[0]?.circuit === 'open');
      // A probe while the sink is still down opens the circuit again.
      const before = sink.calls.length;
      await eventually(() => sink.calls.length > before);
      sink.setBehaviour('success');
      const done = await Promise.race([
        d.flush().then(() => 'flushed'),
        new Promise((r) => setTimeout(() => r('still backing off'), 5_000)),
      ]);
      expect(done).toBe('flushed');
      expect(sink.records).toHaveLength(5);
      expect(d.stats().sinks[0]?.circuit).toBe('closed');
    });
  });

  describe('fan-out', () => {
    it('should keep a healthy sink flowing while another is down, and commit only when both delivered', async () => {
      const up = createInMemorySink({ name: 'up' });
      const down = createInMemorySink({ name: 'down', behaviour: 'retryable' });
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [up, down],
          committer,
          batchMaxRecords: 50,
          batchTimeoutMs: 10,
          maxQueueRecords: 100_000,
          circuit: { failureThreshold: 3, openMs: 50 },
          retry: { baseDelayMs: 10, maxDelayMs: 50 },
        }),
      );
      for (let i = 0; i < 20; i++) {
        d.dispatchMany(recs(i * 100 + 1, 100));
        await new Promise((r) => setTimeout(r, 20));
      }
      await eventually(() => up.records.length === 2000);
      expect(down.records).toHaveLength(0);
      expect(committer.last('a')).toBeUndefined();
      down.setBehaviour('success');
      await d.flush();
      expect(down.records).toHaveLength(2000);
      expect(new Set(offsets(down.records)).size).toBe(2000);
      expect(committer.last('a')).toBe(2000);
    });
  });

  describe('fallback', () => {
    it('should divert to the fallback sink when the circuit stays open past fallbackAfterMs', async () => {
      const primary = createInMemorySink({
        name: 'loki',
        behaviour: 'retryable',
      });
      const local = createInMemorySink({ name: 'local' });
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [primary, local],
          committer,
          batchTimeoutMs: 0,
          sinkOptions: { loki: { fallback: 'local', fallbackAfterMs: 100 } },
          circuit: { failureThreshold: 2, openMs: 50 },
          retry: { baseDelayMs: 5, maxDelayMs: 10 },
        }),
      );
      d.dispatchMany(recs(1, 10));
      await d.flush();
      // Fallback sinks get no routed traffic of their own.
      expect(local.records).toHaveLength(10);
      expect(
        local.records.every((r) => r.metadata?.lc_original_sink === 'loki'),
      ).toBe(true);
      expect(primary.records).toHaveLength(0);
      expect(committer.last('a')).toBe(10);
      expect(d.stats().sinks.find((s) => s.name === 'loki')?.delivered).toBe(
        10,
      );
    });

    it('should use the fallback instead of the DLQ when attempts are exhausted', async () => {
      const primary = createInMemorySink({
        name: 'loki',
        behaviour: 'retryable',
      });
      const local = createInMemorySink({ name: 'local' });
      const deadLetters = createMemoryDeadLetters();
      const d = track(
        createDispatcher({
          sinks: [primary, local],
          deadLetters,
          batchTimeoutMs: 0,
          sinkOptions: { loki: { fallback: 'local', fallbackAfterMs: 60_000 } },
          circuit: { failureThreshold: 0 },
          retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
        }),
      );
      d.dispatch(rec(1));
      await d.flush();
      expect(primary.calls).toHaveLength(2);
      expect(local.records).toHaveLength(1);
      expect(deadLetters.entries).toHaveLength(0);
    });
  });

  describe('batchStore', () => {
    it('should persist before the first attempt and mark each sink', async () => {
      const store = createMemoryBatchStore();
      const calls: string[] = [];
      const a = createInMemorySink({ name: 'a' });
      const b = createInMemorySink({ name: 'b' });
      b.enqueueBehaviour('retryable');
      const spy = (s: typeof a): Sink => ({
        ...s,
        write: (batch, o) => {
          calls.push(
            `write ${s.name} persisted=${store.events.some((e) => e.startsWith('persist'))}`,
          );
          return s.write(batch, o);
        },
      });
      const d = track(
        createDispatcher({
          sinks: [spy(a), spy(b)],
          batchStore: store,
          batchTimeoutMs: 0,
          ...fast,
        }),
      );
      await d.start();
      d.dispatch(rec(1));
      await d.flush();
      expect(calls.every((c) => c.endsWith('persisted=true'))).toBe(true);
      const id = (store.events[0] as string).split(' ')[1];
      expect(store.events).toEqual(
        expect.arrayContaining([
          `persist ${id}`,
          `delivered ${id} a`,
          `failed ${id} b 1`,
          `delivered ${id} b`,
        ]),
      );
      expect(store.batches.size).toBe(0);
    });

    it('should dead-letter permanent failures through the batch store', async () => {
      const store = createMemoryBatchStore();
      const sink = createInMemorySink({ behaviour: 'failure' });
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchStore: store,
          batchTimeoutMs: 0,
        }),
      );
      d.dispatch(rec(1));
      await d.flush();
      expect(store.deadLetters.entries).toHaveLength(1);
      expect(store.batches.size).toBe(0);
    });

    it('should deliver recovered batches on start, to their pending sinks only, without committing their cursors', async () => {
      const recovered: RecoveredBatch[] = [
        {
          id: 'old-1',
          records: recs(1, 3),
          sinks: ['a', 'b'],
          pendingSinks: ['b'],
          attempts: { b: 2 },
          createdAtMs: 1,
        },
        {
          id: 'old-2',
          records: recs(4, 2),
          sinks: ['a', 'b'],
          pendingSinks: ['a', 'b'],
          attempts: {},
          createdAtMs: 2,
        },
      ];
      const store = createMemoryBatchStore(recovered);
      const a = createInMemorySink({ name: 'a' });
      const b = createInMemorySink({ name: 'b' });
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [a, b],
          batchStore: store,
          committer,
          batchTimeoutMs: 0,
        }),
      );
      expect(d.dispatch(rec(100, 'z'))).toBe(true);
      await d.start();
      await d.flush();
      expect(offsets(a.records).filter((o) => o < 100)).toEqual([4, 5]);
      expect(offsets(b.records).filter((o) => o < 100)).toEqual([
        1, 2, 3, 4, 5,
      ]);
      expect(store.batches.size).toBe(0);
      expect(committer.last('a')).toBeUndefined();
      expect(committer.last('z')).toBe(100);
      expect(d.stats().recoveredRecords).toBe(5);
    });

    it('should leave undelivered batches in the store at shutdown', async () => {
      const store = createMemoryBatchStore();
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const d = createDispatcher({
        sinks: [sink],
        batchStore: store,
        batchTimeoutMs: 0,
        shutdownTimeoutMs: 50,
        ...fast,
      });
      d.dispatch({ ...rec(1), labels: EMPTY_LABELS });
      await d.shutdown();
      expect(store.batches.size).toBe(1);
      expect([...store.batches.values()][0]?.pending.has('memory')).toBe(true);
    });
  });
});
