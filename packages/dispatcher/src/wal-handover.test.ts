import { createBatchPersistence } from '@lc/persistence';
import { LcError, WriteResults } from '@lc/core';
import type { LogRecord, Sink } from '@lc/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRecordingCommitter,
  eventually,
  offset,
  rec,
  tempDirs,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';

// A dispatcher replaced in the same process (what an agent config reload
// does) hands what it left in the batch store (WAL) to the next one on the
// same open store: the next one delivers it, no restart needed. A real
// batch WAL on disk; the sinks are in-process.

const live: Dispatcher[] = [];
const dirs = tempDirs('lc-wal-handover-');
afterEach(async () => {
  await Promise.all(live.splice(0).map((d) => d.shutdown()));
  await dirs.cleanup();
});
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A sink that refuses (retryable) until `up`, recording what it took. */
function outageSink(
  name: string,
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

const options = {
  batchMaxRecords: 10,
  batchTimeoutMs: 1,
  retry: { baseDelayMs: 5, maxDelayMs: 20 },
  circuit: { failureThreshold: 2, openMs: 60_000 },
  persist: 'on_failure' as const,
  shutdownTimeoutMs: 3_600_000,
};

describe('createDispatcher', () => {
  describe('start', () => {
    it('should deliver, once, what a stopped dispatcher left in the same open batch store', async () => {
      const store = await createBatchPersistence({
        directory: await dirs.make(),
      });
      try {
        const committer = createRecordingCommitter();
        const first = createDispatcher({
          ...options,
          sinks: [outageSink('loki')],
          committer,
          batchStore: store,
        });
        await first.start();
        for (let n = 1; n <= 95; n++) first.dispatch(rec(n));
        await eventually(
          () => store.pending().reduce((s, b) => s + b.records, 0) === 95,
        );
        await first.shutdown();
        const sink = outageSink('loki');
        sink.up = true;
        const second = createDispatcher({
          ...options,
          sinks: [sink],
          committer,
          batchStore: store,
        });
        live.push(second);
        await second.start();
        await second.flush();
        expect(sink.records.map(offset).sort((a, b) => a - b)).toEqual(
          range(1, 95),
        );
        expect(second.stats().recoveredRecords).toBe(95);
        await store.flush();
        expect(store.pending()).toEqual([]);
      } finally {
        await Promise.all(live.splice(0).map((d) => d.shutdown()));
        await store.shutdown();
      }
    });

    it('should dead-letter, with LC_ERR_CONFIG, what it left for a sink the next dispatcher does not have', async () => {
      const store = await createBatchPersistence({
        directory: await dirs.make(),
      });
      try {
        const first = createDispatcher({
          ...options,
          sinks: [outageSink('gone')],
          batchStore: store,
        });
        await first.start();
        for (let n = 1; n <= 30; n++) first.dispatch(rec(n));
        await eventually(
          () => store.pending().reduce((s, b) => s + b.records, 0) === 30,
        );
        await first.shutdown();
        const kept = outageSink('kept');
        kept.up = true;
        const second = createDispatcher({
          ...options,
          sinks: [kept],
          batchStore: store,
        });
        live.push(second);
        await second.start();
        await second.flush();
        await store.flush();
        expect(store.pending()).toEqual([]);
        expect(kept.records).toEqual([]);
        const dead = await store.deadLetters.list({ limit: 100 });
        expect(dead.map((e) => offset(e.record)).sort((a, b) => a - b)).toEqual(
          range(1, 30),
        );
        expect(dead.every((e) => e.sink === 'gone')).toBe(true);
        expect(dead[0]?.reason.code).toBe('LC_ERR_CONFIG');
      } finally {
        await Promise.all(live.splice(0).map((d) => d.shutdown()));
        await store.shutdown();
      }
    });
  });
});
