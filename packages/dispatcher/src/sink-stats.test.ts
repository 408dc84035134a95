import { LcError, WriteResults } from '@lc/core';
import type { LogRecord, Sink, WriteResult } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import type { FakeClock } from '@lc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBatchStore,
  createMemoryDeadLetters,
  eventually,
  labels,
  rec,
  recs,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher, SinkStats } from './dispatcher.js';
import type { DispatcherOptions } from './dispatcher-options.js';

// What each sink owes (stats().sinks[]: unsettled batches, records, age of
// the oldest) and whether each route's records reach a sink
// (stats().routes), from a real dispatcher in front of sink doubles that
// hang, fail or accept part of a batch, on a fake clock.

/** A sink whose writes wait until `answer` is called (oldest first). */
function gateSink(name: string): Sink & {
  readonly pending: number;
  answer(result?: WriteResult): void;
} {
  const waiting: Array<(r: WriteResult) => void> = [];
  return {
    name,
    get pending() {
      return waiting.length;
    },
    answer(result = WriteResults.success()) {
      waiting.shift()?.(result);
    },
    write(_batch: readonly LogRecord[], opts) {
      return new Promise<WriteResult>((resolve) => {
        waiting.push(resolve);
        opts.signal?.addEventListener('abort', () => {
          waiting.splice(waiting.indexOf(resolve), 1);
          resolve(
            WriteResults.retryable(
              new LcError({ code: 'LC_ERR_ABORTED', message: 'aborted' }),
            ),
          );
        });
      });
    },
    async flush() {},
    async shutdown() {},
  };
}

/** A sink answering `retryable` (down) or `success` (up). */
function switchSink(name: string): Sink & { up: boolean; calls: number } {
  const sink = {
    name,
    up: false,
    calls: 0,
    async write() {
      sink.calls++;
      return sink.up
        ? WriteResults.success()
        : WriteResults.retryable(
            new LcError({
              code: 'LC_ERR_SINK_UNAVAILABLE',
              message: `${name}: 503 ingester not ready`,
            }),
          );
    },
    async flush() {},
    async shutdown() {},
  };
  return sink;
}

const live: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((d) => d.shutdown()));
});

async function started(options: DispatcherOptions): Promise<Dispatcher> {
  // No send times out while the fake clock jumps over retry delays.
  const d = createDispatcher({
    shutdownTimeoutMs: 0,
    sendTimeoutMs: 3_600_000,
    ...options,
  });
  live.push(d);
  await d.start();
  return d;
}

const sinkOf = (d: Dispatcher, name: string): SinkStats => {
  const s = d.stats().sinks.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no sink ${name}`);
  return s;
};

/** Let promise callbacks run (the fake clock fires no real timers). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('createDispatcher', () => {
  describe('stats: sinks', () => {
    it('should count in-flight and queued batches as owed, and age them from their first record', async () => {
      const clock: FakeClock = createFakeClock();
      const sink = gateSink('loki');
      const d = await started({
        sinks: [sink],
        clock,
        workers: 1,
        batchMaxRecords: 2,
        batchTimeoutMs: 60_000,
      });
      d.dispatchMany(recs(0, 4));
      await eventually(() => sink.pending === 1);
      clock.advance(1500);
      expect(sinkOf(d, 'loki')).toMatchObject({
        state: 'up',
        inflight: 1,
        queued: 1,
        unsettledBatches: 2,
        unsettledRecords: 4,
        oldestUnsettledAgeMs: 1500,
      });
      sink.answer();
      await eventually(() => sink.pending === 1);
      clock.advance(500);
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledBatches: 1,
        unsettledRecords: 2,
        oldestUnsettledAgeMs: 2000,
        delivered: 2,
      });
      sink.answer();
      await eventually(() => sinkOf(d, 'loki').unsettledBatches === 0);
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledRecords: 0,
        oldestUnsettledAgeMs: 0,
        delivered: 4,
      });
    });

    it('should charge a batch only to the sinks that have not taken it', async () => {
      const clock = createFakeClock();
      const down = switchSink('loki');
      const up = switchSink('file');
      up.up = true;
      const d = await started({
        sinks: [down, up],
        clock,
        batchMaxRecords: 3,
        retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      });
      d.dispatchMany(recs(0, 3));
      await eventually(
        () => down.calls === 1 && sinkOf(d, 'file').delivered === 3,
      );
      expect(sinkOf(d, 'file')).toMatchObject({
        unsettledBatches: 0,
        unsettledRecords: 0,
      });
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledBatches: 1,
        unsettledRecords: 3,
        lastError: {
          code: 'LC_ERR_SINK_UNAVAILABLE',
          message: 'loki: 503 ingester not ready',
        },
      });
    });

    it('should count what a partial write left to retry and to dead-letter, and only the dead letters while they are written', async () => {
      const clock = createFakeClock();
      const sink = gateSink('loki');
      const deadLetters = createMemoryDeadLetters();
      deadLetters.failNext = 1;
      const d = await started({
        sinks: [sink],
        clock,
        deadLetters,
        batchMaxRecords: 4,
        retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      });
      d.dispatchMany(recs(0, 4));
      await eventually(() => sink.pending === 1);
      const rejected = new LcError({
        code: 'LC_ERR_SINK_REJECTED',
        message: 'entry too old',
      });
      const busy = new LcError({
        code: 'LC_ERR_SINK_RATE_LIMITED',
        message: '429',
      });
      // 0 delivered, 1 retried, 2 and 3 dead-lettered once 1 is done.
      sink.answer(
        WriteResults.partial(
          [
            { index: 1, error: busy, retryable: true },
            { index: 2, error: rejected, retryable: false },
            { index: 3, error: rejected, retryable: false },
          ],
          4,
        ),
      );
      await eventually(() => sinkOf(d, 'loki').delivered === 1);
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledBatches: 1,
        unsettledRecords: 3,
      });
      // The retry is accepted; the dead-letter write fails once and waits.
      clock.advance(60_000);
      await eventually(() => sink.pending === 1);
      sink.answer();
      await eventually(() => sinkOf(d, 'loki').delivered === 2);
      await turn();
      expect(deadLetters.entries).toHaveLength(0);
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledBatches: 1,
        unsettledRecords: 2,
      });
      clock.advance(60_000);
      await eventually(() => deadLetters.entries.length === 2);
      await eventually(() => sinkOf(d, 'loki').unsettledBatches === 0);
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledRecords: 0,
        deadLettered: 2,
      });
    });

    it('should age a batch recovered from the batch store from when it was first closed', async () => {
      const clock = createFakeClock();
      const sink = gateSink('loki');
      const store = createMemoryBatchStore([
        {
          id: 'old',
          records: recs(0, 2),
          sinks: ['loki'],
          pendingSinks: ['loki'],
          attempts: { loki: 3 },
          createdAtMs: clock.now() - 90_000,
        },
      ]);
      const d = await started({ sinks: [sink], clock, batchStore: store });
      await eventually(() => sink.pending === 1);
      expect(sinkOf(d, 'loki')).toMatchObject({
        unsettledBatches: 1,
        unsettledRecords: 2,
        oldestUnsettledAgeMs: 90_000,
      });
    });
  });

  describe('stats: routes', () => {
    it('should call a route degraded while one of its sinks is down and down once all are, and up again when one recovers', async () => {
      const clock = createFakeClock();
      const a = switchSink('loki');
      const b = switchSink('kafka');
      b.up = true;
      const d = await started({
        sinks: [a, b],
        clock,
        batchMaxRecords: 1,
        circuit: { failureThreshold: 1, openMs: 5000 },
        retry: { baseDelayMs: 1, maxDelayMs: 1 },
      });
      expect(d.stats().routes).toEqual([
        {
          route: 'default',
          sinks: ['loki', 'kafka'],
          state: 'up',
          downSinks: [],
        },
      ]);
      d.dispatch(rec(0));
      await eventually(() => sinkOf(d, 'loki').state === 'down');
      expect(sinkOf(d, 'loki').circuit).toBe('open');
      expect(d.stats().routes[0]).toMatchObject({
        state: 'degraded',
        downSinks: ['loki'],
      });
      b.up = false;
      d.dispatch(rec(1));
      await eventually(() => sinkOf(d, 'kafka').state === 'down');
      expect(d.stats().routes[0]).toMatchObject({
        state: 'down',
        downSinks: ['loki', 'kafka'],
      });
      // Half-open is still down: only a delivered probe closes the circuit.
      a.up = true;
      clock.advance(5000);
      await eventually(() => sinkOf(d, 'loki').state === 'up');
      expect(d.stats().routes[0]).toMatchObject({
        state: 'degraded',
        downSinks: ['kafka'],
      });
    });

    it('should judge each route by its own sinks and count a sink whose fallback takes its records as degraded, not down', async () => {
      const clock = createFakeClock();
      const loki = switchSink('loki');
      const audit = switchSink('audit');
      const spare = switchSink('spare');
      spare.up = true;
      const d = await started({
        sinks: [loki, audit, spare],
        clock,
        batchMaxRecords: 1,
        routes: [{ match: { app: 'audit' }, sinks: ['audit'] }],
        defaultSinks: ['loki'],
        sinkOptions: { loki: { fallback: 'spare' } },
        circuit: { failureThreshold: 1, openMs: 60_000 },
        retry: { baseDelayMs: 1, maxDelayMs: 1 },
      });
      d.dispatch(rec(0));
      d.dispatch({ ...rec(1), labels: labels('audit') });
      await eventually(
        () =>
          sinkOf(d, 'loki').state === 'down' &&
          sinkOf(d, 'audit').state === 'down',
      );
      expect(sinkOf(d, 'loki').fallback).toBe('spare');
      expect(d.stats().routes).toEqual([
        {
          route: 'default',
          sinks: ['loki'],
          state: 'degraded',
          downSinks: ['loki'],
        },
        { route: 0, sinks: ['audit'], state: 'down', downSinks: ['audit'] },
      ]);
    });
  });
});
