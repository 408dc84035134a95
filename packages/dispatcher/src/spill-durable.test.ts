import { createDiskLog } from '@lc/buffer';
import { createBatchPersistence } from '@lc/persistence';
import type { Cursor, SourceRef } from '@lc/core';
import { describe, expect, it } from 'vitest';
import {
  dispatcherScope,
  eventually,
  offset,
  outageSink,
  range,
  rec,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import { encodeChunk, SpillDictionary } from './internal/spill-codec.js';

// The durable disk spill (the default): records written to it count as
// held for the position commit, are delivered after a restart, and are
// acknowledged in the disk log only once delivered.

const { live, dirs } = dispatcherScope('lc-spill-durable-');
const tempDir = dirs.make;

function lastCommits(): {
  commit(src: SourceRef, cursor: Cursor): void;
  last: Map<string, number>;
} {
  const last = new Map<string, number>();
  return {
    last,
    commit(src, cursor) {
      last.set(src.id, (cursor as { offset: number }).offset);
    },
  };
}

const options = (directory: string) => ({
  maxQueueRecords: 20,
  batchMaxRecords: 10,
  batchTimeoutMs: 1,
  retry: { baseDelayMs: 5, maxDelayMs: 20 },
  spill: { trigger: 'backpressure' as const, directory },
});

describe('createDispatcher', () => {
  describe('durable spill', () => {
    it('should commit spilled records once written, while the sink is down', async () => {
      const directory = await tempDir();
      const sink = outageSink();
      const committer = lastCommits();
      const d = createDispatcher({
        sinks: [sink],
        committer,
        ...options(directory),
      });
      live.push(d);
      await d.start();
      for (let n = 1; n <= 500; n++) d.dispatch(rec(n));
      // Nothing delivered; the in-memory head is not held by anything, so
      // the watermark waits for it…
      await eventually(() => d.stats().spilledRecords >= 400);
      expect(committer.last.get('a')).toBeUndefined();
      sink.up = true;
      await d.flush();
      expect(sink.records.map(offset)).toEqual(range(1, 500));
      expect(committer.last.get('a')).toBe(500);
    });

    it('should deliver what it and the batch store hold after a restart, first and in order, and not twice', async () => {
      const directory = await tempDir();
      const wal = await tempDir();
      const down = outageSink();
      const committer = lastCommits();
      // The in-memory head of the queue is held by the batch store once its
      // delivery failed (persist: on_failure), the rest by the spill: the
      // watermark passes both.
      const firstStore = await createBatchPersistence({ directory: wal });
      const first = createDispatcher({
        sinks: [down],
        committer,
        batchStore: firstStore,
        persist: 'on_failure',
        ...options(directory),
        shutdownTimeoutMs: 50,
      });
      await first.start();
      for (let n = 1; n <= 300; n++) first.dispatch(rec(n));
      await eventually(() => committer.last.get('a') === 300);
      // A stop during the outage: what the spill and the WAL hold stays.
      await first.shutdown();
      await firstStore.shutdown();
      const committedAtStop = committer.last.get('a') ?? 0;
      const sink = outageSink();
      sink.up = true;
      const secondStore = await createBatchPersistence({ directory: wal });
      const second = createDispatcher({
        sinks: [sink],
        committer,
        batchStore: secondStore,
        persist: 'on_failure',
        ...options(directory),
      });
      live.push(second);
      await second.start();
      // The source resumes after what was committed.
      for (let n = committedAtStop + 1; n <= 400; n++) second.dispatch(rec(n));
      await second.flush();
      const got = sink.records.map(offset);
      // Every record, each spilled one once, in order.
      expect([...new Set(got)].sort((a, b) => a - b)).toEqual(range(1, 400));
      const spilledPart = got.filter((n) => n <= committedAtStop);
      expect(spilledPart).toEqual([...new Set(spilledPart)]);
      expect(got.filter((n) => n > committedAtStop)).toEqual(
        range(committedAtStop + 1, 400),
      );
      // Delivered from the spill: acknowledged in its log, not kept.
      await second.shutdown();
      await secondStore.shutdown();
      const log = await createDiskLog({ directory, fsync: 'never' });
      let left = 0;
      for await (const _ of log.read()) left++;
      await log.shutdown();
      expect(left).toBe(0);
    });

    it('should stop at once, not after shutdownTimeoutMs, when all it holds is on disk for a sink that is down; the next start delivers it', async () => {
      const directory = await tempDir();
      const wal = await tempDir();
      const committer = lastCommits();
      const firstStore = await createBatchPersistence({ directory: wal });
      const first = createDispatcher({
        sinks: [outageSink()],
        committer,
        batchStore: firstStore,
        persist: 'on_failure',
        ...options(directory),
        circuit: { failureThreshold: 2, openMs: 60_000 },
        // Longer than the test's timeout: waiting it out fails the test.
        shutdownTimeoutMs: 3_600_000,
      });
      await first.start();
      for (let n = 1; n <= 300; n++) first.dispatch(rec(n));
      await eventually(() => committer.last.get('a') === 300);
      await eventually(() => first.stats().sinks[0]?.circuit === 'open');
      await first.shutdown();
      await firstStore.shutdown();
      const sink = outageSink();
      sink.up = true;
      const secondStore = await createBatchPersistence({ directory: wal });
      const second = createDispatcher({
        sinks: [sink],
        batchStore: secondStore,
        persist: 'on_failure',
        ...options(directory),
      });
      live.push(second);
      await second.start();
      await second.flush();
      expect(
        [...new Set(sink.records.map(offset))].sort((a, b) => a - b),
      ).toEqual(range(1, 300));
      await second.shutdown();
      await secondStore.shutdown();
    });

    it('should deliver chunks written by an earlier process before new records', async () => {
      const directory = await tempDir();
      const old = await createDiskLog({ directory, fsync: 'never' });
      await old.append(
        encodeChunk([rec(1, 'old'), rec(2, 'old')], new SpillDictionary()),
      );
      await old.shutdown();
      const sink = outageSink();
      sink.up = true;
      const d = createDispatcher({ sinks: [sink], ...options(directory) });
      live.push(d);
      await d.start();
      expect(d.stats().spilledRecords).toBe(2);
      for (let n = 1; n <= 5; n++) d.dispatch(rec(n, 'new'));
      await d.flush();
      expect(sink.records.map((r) => `${r.source.id}-${offset(r)}`)).toEqual([
        'old-1',
        'old-2',
        'new-1',
        'new-2',
        'new-3',
        'new-4',
        'new-5',
      ]);
    });

    it('should drop its oldest records when full with whenFull drop_oldest, counting them', async () => {
      const directory = await tempDir();
      const sink = outageSink();
      const d = createDispatcher({
        sinks: [sink],
        ...options(directory),
        // ~74 estimated bytes per record: about 10 chunks of 10.
        spill: {
          trigger: 'backpressure',
          directory,
          maxBytes: 8_000,
          whenFull: 'drop_oldest',
        },
      });
      live.push(d);
      await d.start();
      let refused = 0;
      for (let n = 1; n <= 2_000; n++) {
        if (!d.dispatch(rec(n))) {
          refused++;
          await d.whenWritable();
        }
      }
      await eventually(() => d.stats().dropped['spill_full'] !== undefined);
      sink.up = true;
      await d.flush();
      const got = new Set(sink.records.map(offset));
      const missing = range(1, 2_000).filter((n) => !got.has(n));
      // What is missing is exactly what was counted as dropped.
      expect(missing.length).toBeGreaterThan(0);
      expect(d.stats().dropped['spill_full']).toBe(missing.length);
      expect(refused).toBeGreaterThanOrEqual(0);
    });
  });
});
