import { createBatchPersistence } from '@lc/persistence';
import type { BatchStore } from '@lc/core';
import { describe, expect, it } from 'vitest';
import {
  createRecordingCommitter,
  dispatcherScope,
  eventually,
  offset,
  outageSink,
  range,
  rec,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';

// A dispatcher replaced in the same process (what an agent config reload
// does) hands what it left in the batch store (WAL) to the next one on the
// same open store: the next one delivers it, no restart needed. A real
// batch WAL on disk; the sinks are in-process.

const { live, dirs } = dispatcherScope('lc-wal-handover-');

const options = {
  batchMaxRecords: 10,
  batchTimeoutMs: 1,
  retry: { baseDelayMs: 5, maxDelayMs: 20 },
  circuit: { failureThreshold: 2, openMs: 60_000 },
  persist: 'on_failure' as const,
  shutdownTimeoutMs: 3_600_000,
};

/**
 * A dispatcher whose sink `leftBy` stays down leaves records 1…`count` in
 * `store` and is stopped; the next one, on the same open store with `next`
 * (set up) as its sink, is started and flushed.
 */
async function handOver(
  store: BatchStore,
  leftBy: string,
  count: number,
  next: ReturnType<typeof outageSink>,
  extra: { committer?: ReturnType<typeof createRecordingCommitter> } = {},
): Promise<Dispatcher> {
  const first = createDispatcher({
    ...options,
    ...extra,
    sinks: [outageSink(leftBy)],
    batchStore: store,
  });
  await first.start();
  for (let n = 1; n <= count; n++) first.dispatch(rec(n));
  await eventually(
    () => store.pending().reduce((s, b) => s + b.records, 0) === count,
  );
  await first.shutdown();
  next.up = true;
  const second = createDispatcher({
    ...options,
    ...extra,
    sinks: [next],
    batchStore: store,
  });
  live.push(second);
  await second.start();
  await second.flush();
  return second;
}

describe('createDispatcher', () => {
  describe('start', () => {
    it('should deliver, once, what a stopped dispatcher left in the same open batch store', async () => {
      const store = await createBatchPersistence({
        directory: await dirs.make(),
      });
      try {
        const sink = outageSink('loki');
        const second = await handOver(store, 'loki', 95, sink, {
          committer: createRecordingCommitter(),
        });
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
        const kept = outageSink('kept');
        await handOver(store, 'gone', 30, kept);
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
