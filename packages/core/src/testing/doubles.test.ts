import { describe, expect, it } from 'vitest';
import { LcError } from '../lc-error.js';
import { createCollectingIntake } from './collecting-intake.js';
import { describePositionStoreContract } from './describe-position-store-contract.js';
import {
  describeSinkContract,
  makeContractRecords,
} from './describe-sink-contract.js';
import { createFakeClock } from './fake-clock.js';
import { createInMemoryPositionStore } from './in-memory-position-store.js';
import { createInMemorySink } from './in-memory-sink.js';

describeSinkContract('createInMemorySink', () => {
  const sink = createInMemorySink();
  return { sink, readBack: async () => sink.records.map((r) => r.line) };
});

describePositionStoreContract('createInMemoryPositionStore', () => ({
  store: createInMemoryPositionStore(),
}));

const signal = new AbortController().signal;

describe('createInMemorySink', () => {
  describe('write', () => {
    it('should follow queued behaviours, then the default', async () => {
      const sink = createInMemorySink();
      sink.enqueueBehaviour('retryable', 'failure');
      const batch = makeContractRecords(3);
      expect((await sink.write(batch, { signal })).status).toBe('retryable');
      expect((await sink.write(batch, { signal })).status).toBe('failure');
      expect((await sink.write(batch, { signal })).status).toBe('success');
      expect(sink.calls).toHaveLength(3);
      expect(sink.records).toHaveLength(3);
    });

    it('should record only the accepted part of a partial write', async () => {
      const error = new LcError({
        code: 'LC_ERR_SINK_REJECTED',
        message: 'old',
      });
      const sink = createInMemorySink({
        behaviour: () => ({
          status: 'partial',
          failed: [{ index: 1, retryable: false, error }],
        }),
      });
      const batch = makeContractRecords(3);
      await sink.write(batch, { signal });
      expect(sink.records.map((r) => r.line)).toEqual([
        batch[0]?.line,
        batch[2]?.line,
      ]);
    });

    it('should resolve retryable LC_ERR_ABORTED when aborted during its delay', async () => {
      const sink = createInMemorySink({ delayMs: 10_000 });
      const c = new AbortController();
      const p = sink.write(makeContractRecords(1), { signal: c.signal });
      c.abort();
      const r = await p;
      expect(r.status === 'retryable' && r.error.code).toBe('LC_ERR_ABORTED');
    });
  });
});

describe('createFakeClock', () => {
  describe('advance', () => {
    it('should fire due timers in time order and skip cleared ones', () => {
      const clock = createFakeClock(0);
      const fired: string[] = [];
      clock.setTimeout(() => fired.push('b'), 20);
      clock.setTimeout(() => fired.push('a'), 10);
      const c = clock.setTimeout(() => fired.push('c'), 15);
      clock.clearTimeout(c);
      clock.advance(15);
      expect(fired).toEqual(['a']);
      clock.advance(10);
      expect(fired).toEqual(['a', 'b']);
      expect(clock.now()).toBe(25);
      expect(clock.pendingTimers).toBe(0);
    });
  });
});

describe('createCollectingIntake', () => {
  describe('dispatch', () => {
    it('should signal backpressure at the high-water mark and release on take', async () => {
      const intake = createCollectingIntake({ highWaterMark: 2 });
      const [a, b] = makeContractRecords(2);
      expect(intake.dispatch(a!)).toBe(true);
      expect(intake.dispatch(b!)).toBe(false);
      let released = false;
      const waiting = intake.whenWritable().then(() => (released = true));
      await Promise.resolve();
      expect(released).toBe(false);
      expect(intake.take()).toHaveLength(2);
      await waiting;
      expect(released).toBe(true);
    });

    it('should auto-commit cursors when asked', () => {
      const commits: unknown[] = [];
      const intake = createCollectingIntake({
        autoCommit: { commit: (_s, c) => commits.push(c) },
      });
      intake.dispatchMany(makeContractRecords(2));
      expect(commits).toEqual([
        { offset: 1, line: 1 },
        { offset: 2, line: 2 },
      ]);
    });
  });
});
