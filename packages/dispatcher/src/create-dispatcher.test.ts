import { LcError, WriteResults } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { createInMemorySink } from '@lc/core/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryDeadLetters,
  createRecordingCommitter,
  eventually,
  rec,
  recs,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';

const live: Dispatcher[] = [];
function track<T extends Dispatcher>(d: T): T {
  live.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(live.splice(0).map((d) => d.shutdown()));
});

const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };

describe('createDispatcher', () => {
  describe('options', () => {
    it('should reject invalid options with LC_ERR_INVALID_OPTION naming the option', () => {
      const sink = createInMemorySink();
      expect(() => createDispatcher({ sinks: [] })).toThrow(/sinks/);
      expect(() =>
        createDispatcher({ sinks: [sink], batchMaxRecords: 0 }),
      ).toThrow(/batchMaxRecords/);
      expect(() =>
        createDispatcher({ sinks: [sink, createInMemorySink()] }),
      ).toThrow(/uniquely/);
      expect(() =>
        createDispatcher({
          sinks: [sink],
          routes: [{ match: {}, sinks: ['nope'] }],
        }),
      ).toThrow(/routes\[0\]\.sinks/);
      expect(() =>
        createDispatcher({ sinks: [sink], persist: 'sometimes' as never }),
      ).toThrow(/option persist must be always or on_failure, got sometimes/);
      try {
        createDispatcher({ sinks: [sink], dropPolicy: 'x' as never });
      } catch (error) {
        expect(LcError.isInstance(error, 'LC_ERR_INVALID_OPTION')).toBe(true);
      }
    });
  });

  describe('dispatch', () => {
    it('should batch by batchMaxRecords, deliver to every sink and commit the watermark', async () => {
      const a = createInMemorySink({ name: 'a' });
      const b = createInMemorySink({ name: 'b' });
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [a, b],
          committer,
          batchMaxRecords: 10,
          batchTimeoutMs: 10_000,
        }),
      );
      expect(d.dispatchMany(recs(1, 25))).toBe(true);
      await eventually(
        () => a.records.length === 20 && b.records.length === 20,
      );
      expect(a.calls.every((c) => c.batch.length === 10)).toBe(true);
      // The fan-out copies share the batch array: no per-sink copy.
      expect(a.calls[0]?.batch).toBe(b.calls[0]?.batch);
      await eventually(() => committer.last('a') === 20);
      await d.flush();
      expect(a.records).toHaveLength(25);
      expect(committer.last('a')).toBe(25);
    });

    it('should close a batch after batchTimeoutMs', async () => {
      const sink = createInMemorySink();
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchMaxRecords: 1000,
          batchTimeoutMs: 30,
        }),
      );
      d.dispatch(rec(1));
      d.dispatch(rec(2));
      expect(sink.calls).toHaveLength(0);
      await eventually(() => sink.records.length === 2, 2000);
      expect(sink.calls).toHaveLength(1);
    });

    it('should close a batch at batchMaxBytes', async () => {
      const sink = createInMemorySink();
      const d = track(
        createDispatcher({
          sinks: [sink],
          batchMaxBytes: 300,
          batchTimeoutMs: 10_000,
        }),
      );
      d.dispatchMany(recs(1, 10)); // ~75 bytes each
      await eventually(() => sink.calls.length >= 2);
      expect(sink.calls[0]?.batch.length).toBe(4);
    });

    it('should route by label match and send unmatched records to the default sinks', async () => {
      const web = createInMemorySink({ name: 'web' });
      const all = createInMemorySink({ name: 'all' });
      const d = track(
        createDispatcher({
          sinks: [web, all],
          routes: [{ match: { app: /^we/ }, sinks: ['web', 'all'] }],
          defaultSinks: ['all'],
          batchTimeoutMs: 0,
        }),
      );
      d.dispatch(rec(1, 'a', 'web'));
      d.dispatch(rec(2, 'a', 'db'));
      await d.flush();
      expect(web.records.map((r) => r.labels.app)).toEqual(['web']);
      expect(all.records.map((r) => r.labels.app).sort()).toEqual([
        'db',
        'web',
      ]);
    });
  });

  describe('whenWritable', () => {
    it('should return false over maxQueueRecords and resolve once records settle', async () => {
      const sink = createInMemorySink({ delayMs: 50 });
      const d = track(
        createDispatcher({
          sinks: [sink],
          maxQueueRecords: 10,
          batchMaxRecords: 5,
          batchTimeoutMs: 5,
        }),
      );
      let accepted = 0;
      let refused = false;
      for (let i = 1; i <= 10; i++) {
        accepted++;
        if (!d.dispatch(rec(i))) {
          refused = true;
          break;
        }
      }
      expect(refused).toBe(true);
      expect(d.stats().writable).toBe(false);
      await d.whenWritable();
      expect(d.stats().queuedRecords).toBeLessThan(10);
      await d.flush();
      expect(sink.records).toHaveLength(accepted);
      expect(d.stats().backpressureMs).toBeGreaterThan(0);
    });

    it('should default the bound to one batch per worker plus one building, at least 5,000 records', () => {
      const accepted = (options: {
        workers?: number;
        batchMaxRecords?: number;
      }): number => {
        const d = track(
          createDispatcher({
            sinks: [createInMemorySink({ delayMs: 60_000 })],
            shutdownTimeoutMs: 0,
            ...options,
          }),
        );
        let n = 0;
        while (d.dispatch(rec(++n))) if (n > 100_000) break;
        return n;
      };
      expect(accepted({})).toBe(5_000);
      expect(accepted({ workers: 4, batchMaxRecords: 2_000 })).toBe(10_000);
    });

    it('should bound by maxQueueBytes too', () => {
      const sink = createInMemorySink({ delayMs: 1000 });
      const d = track(
        createDispatcher({
          sinks: [sink],
          maxQueueBytes: 500,
          shutdownTimeoutMs: 0,
        }),
      );
      let n = 0;
      while (d.dispatch(rec(++n))) if (n > 100) break;
      expect(n).toBeLessThan(10);
    });

    it('should reject LC_ERR_SHUT_DOWN after shutdown and LC_ERR_ABORTED on abort', async () => {
      const sink = createInMemorySink({ delayMs: 10_000 });
      const d = createDispatcher({
        sinks: [sink],
        maxQueueRecords: 1,
        shutdownTimeoutMs: 0,
      });
      d.dispatch(rec(1));
      const ac = new AbortController();
      const aborted = d.whenWritable({ signal: ac.signal });
      ac.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'LC_ERR_ABORTED' });
      const pending = d.whenWritable();
      await d.shutdown();
      await expect(pending).rejects.toMatchObject({ code: 'LC_ERR_SHUT_DOWN' });
      await expect(d.whenWritable()).rejects.toMatchObject({
        code: 'LC_ERR_SHUT_DOWN',
      });
      expect(d.dispatch(rec(2))).toBe(false);
      expect(d.stats().dropped.shut_down).toBe(1);
    });
  });

  describe('dropPolicy', () => {
    it('should count drop_newest drops and still commit past them', async () => {
      const sink = createInMemorySink({ delayMs: 30 });
      const committer = createRecordingCommitter();
      const d = track(
        createDispatcher({
          sinks: [sink],
          committer,
          maxQueueRecords: 5,
          dropPolicy: 'drop_newest',
          batchMaxRecords: 5,
        }),
      );
      d.dispatchMany(recs(1, 20));
      await d.flush();
      expect(d.stats().dropped.drop_newest).toBe(15);
      expect(
        sink.records.map((r) => (r.cursor as { offset: number }).offset),
      ).toEqual([1, 2, 3, 4, 5]);
      await eventually(() => committer.last('a') === 20);
    });

    it('should dead-letter the oldest waiting batch with drop_oldest', async () => {
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const deadLetters = createMemoryDeadLetters();
      const d = track(
        createDispatcher({
          sinks: [sink],
          deadLetters,
          maxQueueRecords: 10,
          dropPolicy: 'drop_oldest',
          batchMaxRecords: 5,
          retry: { baseDelayMs: 1000, maxDelayMs: 1000 },
          circuit: { failureThreshold: 0 },
          sinkOptions: { memory: { ordering: 'none' } },
          shutdownTimeoutMs: 0,
        }),
      );
      d.dispatchMany(recs(1, 10));
      await eventually(() => sink.calls.length >= 2);
      await eventually(() => d.stats().retryQueueSize === 2);
      d.dispatchMany(recs(11, 5));
      await eventually(() => deadLetters.entries.length === 5);
      expect(d.stats().dropped.drop_oldest).toBe(5);
      expect(deadLetters.entries[0]?.reason.code).toBe('LC_ERR_QUEUE_FULL');
      expect(
        deadLetters.entries.map(
          (e) => (e.record.cursor as { offset: number }).offset,
        ),
      ).toEqual([1, 2, 3, 4, 5]);
    });
  });

  describe('dedup and rateLimit', () => {
    it('should drop and count duplicates only when dedup is on', async () => {
      const sink = createInMemorySink();
      const d = track(
        createDispatcher({
          sinks: [sink],
          dedup: { ttlMs: 60_000 },
          batchTimeoutMs: 0,
        }),
      );
      d.dispatch(rec(1));
      d.dispatch(rec(1));
      d.dispatch(rec(2));
      await d.flush();
      expect(sink.records).toHaveLength(2);
      expect(d.stats().dropped.duplicate).toBe(1);
      const plain = createInMemorySink({ name: 'plain' });
      const d2 = track(createDispatcher({ sinks: [plain], batchTimeoutMs: 0 }));
      d2.dispatch(rec(1));
      d2.dispatch(rec(1));
      await d2.flush();
      expect(plain.records).toHaveLength(2);
    });

    it('should drop and count records over the token bucket per source', async () => {
      const sink = createInMemorySink();
      const d = track(
        createDispatcher({
          sinks: [sink],
          rateLimit: { recordsPerSecond: 1, burst: 3 },
          batchTimeoutMs: 0,
        }),
      );
      d.dispatchMany(recs(1, 10, 'a'));
      d.dispatchMany(recs(1, 2, 'b'));
      await d.flush();
      expect(sink.records).toHaveLength(5);
      expect(d.stats().dropped.rate_limited).toBe(7);
    });
  });

  describe('ordering', () => {
    it('should deliver each stream in order to an ordered sink despite random retries', async () => {
      let calls = 0;
      const sink = createInMemorySink({
        behaviour: (batch) => {
          calls++;
          if (calls % 3 === 0) {
            return WriteResults.retryable(
              new LcError({ code: 'LC_ERR_SINK_UNAVAILABLE', message: 'x' }),
            );
          }
          if (calls % 5 === 0 && batch.length > 1) {
            return WriteResults.partial(
              [
                {
                  index: batch.length - 1,
                  retryable: true,
                  error: new LcError({
                    code: 'LC_ERR_SINK_UNAVAILABLE',
                    message: 'y',
                  }),
                },
              ],
              batch.length,
            );
          }
          return WriteResults.success();
        },
        delayMs: 1,
      });
      const d = track(
        createDispatcher({
          sinks: [sink],
          workers: 4,
          batchMaxRecords: 7,
          batchTimeoutMs: 5,
          circuit: { failureThreshold: 0 },
          ...fast,
        }),
      );
      const apps = ['s1', 's2', 's3'];
      let n = 0;
      for (let i = 0; i < 300; i++) d.dispatch(rec(++n, 'a', apps[i % 3]));
      await d.flush();
      for (const app of apps) {
        const offsets = sink.records
          .filter((r) => r.labels.app === app)
          .map((r) => (r.cursor as { offset: number }).offset);
        expect(offsets).toHaveLength(100);
        expect([...offsets].sort((x, y) => x - y)).toEqual(offsets);
      }
    });

    it('should run batches of one stream concurrently when ordering is none', async () => {
      const sink = createInMemorySink({ delayMs: 40 });
      let maxInflight = 0;
      const d = track(
        createDispatcher({
          sinks: [sink],
          workers: 3,
          batchMaxRecords: 1,
          sinkOptions: { memory: { ordering: 'none' } },
        }),
      );
      d.dispatchMany(recs(1, 6));
      await eventually(() => {
        maxInflight = Math.max(maxInflight, d.stats().sinks[0]?.inflight ?? 0);
        return sink.records.length === 6;
      });
      expect(maxInflight).toBe(3);
    });
  });

  describe('metrics', () => {
    it('should expose queue, batch, retry and circuit metrics on the injected registry', async () => {
      const registry = new Registry();
      const sink = createInMemorySink();
      sink.enqueueBehaviour('retryable');
      const d = track(
        createDispatcher({
          sinks: [sink],
          registry,
          batchTimeoutMs: 0,
          ...fast,
        }),
      );
      d.dispatch(rec(1));
      await d.flush();
      const text = await registry.metrics();
      expect(text).toMatch(
        /lc_dispatcher_batches_total\{dispatcher="default",sink="memory",result="success"\} 1/,
      );
      expect(text).toMatch(
        /lc_dispatcher_batches_total\{dispatcher="default",sink="memory",result="retryable"\} 1/,
      );
      expect(text).toMatch(
        /lc_dispatcher_retries_total\{dispatcher="default",sink="memory"\} 1/,
      );
      expect(text).toMatch(
        /lc_dispatcher_records_sent_total\{dispatcher="default",sink="memory"\} 1/,
      );
      expect(text).toMatch(
        /lc_dispatcher_queue_records\{dispatcher="default"\} 0/,
      );
      expect(text).toMatch(
        /lc_dispatcher_circuit_state\{dispatcher="default",sink="memory"\} 0/,
      );
      expect(text).toMatch(
        /lc_dispatcher_send_duration_seconds_count\{dispatcher="default",sink="memory"\} 2/,
      );
      expect(text).toMatch(
        /lc_dispatcher_settle_latency_seconds_count\{dispatcher="default"\} 1/,
      );
    });
  });

  describe('shutdown', () => {
    it('should drain in-flight batches, commit the final watermark and shut the sinks down', async () => {
      const sink = createInMemorySink({ delayMs: 50 });
      const committer = createRecordingCommitter();
      const d = createDispatcher({
        sinks: [sink],
        committer,
        batchMaxRecords: 10,
        batchTimeoutMs: 10_000,
      });
      d.dispatchMany(recs(1, 35));
      await d.shutdown();
      expect(sink.records).toHaveLength(35);
      expect(committer.last('a')).toBe(35);
      expect(sink.isShutDown).toBe(true);
      await d.shutdown(); // idempotent
    });

    it('should give up after shutdownTimeoutMs and leave undelivered records uncommitted', async () => {
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const committer = createRecordingCommitter();
      const d = createDispatcher({
        sinks: [sink],
        committer,
        batchTimeoutMs: 0,
        shutdownTimeoutMs: 100,
        ...fast,
      });
      d.dispatch(rec(1));
      const started = Date.now();
      await d.shutdown();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(committer.last('a')).toBeUndefined();
      expect(d.stats().queuedRecords).toBe(1);
    });

    it('should not keep timers alive after shutdown', async () => {
      const sink = createInMemorySink({ behaviour: 'retryable' });
      const d = createDispatcher({
        sinks: [sink],
        batchTimeoutMs: 0,
        shutdownTimeoutMs: 50,
        ...fast,
      });
      d.dispatchMany(recs(1, 10) as LogRecord[]);
      await d.shutdown();
      const calls = sink.calls.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.calls.length).toBe(calls);
    });
  });
});
