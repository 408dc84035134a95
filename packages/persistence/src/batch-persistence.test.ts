import { createFakeClock } from '@lc/core/testing';
import type { FakeClock } from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LcError, silentLogger } from '@lc/core';
import type { Logger } from '@lc/core';
import { collect, makeBatch, makeRecords, sinkError } from '../test/helpers.js';
import { createBatchPersistence } from './batch-persistence.js';
import type {
  BatchPersistence,
  BatchPersistenceOptions,
} from './batch-persistence.js';

let dir: TempDir;
const open: BatchPersistence[] = [];

beforeEach(async () => {
  dir = await createTempDir('lc-persistence-');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.shutdown()));
  await dir.cleanup();
});

async function openStore(
  options: Partial<BatchPersistenceOptions> = {},
): Promise<BatchPersistence> {
  const p = await createBatchPersistence({
    directory: dir.path,
    fsync: 'always',
    ...options,
  });
  open.push(p);
  return p;
}

/**
 * Advance a fake clock in steps, letting the store's asynchronous
 * checks run between steps, until `done()` or `maxMs`.
 */
async function advanceUntil(
  clock: FakeClock,
  maxMs: number,
  done: () => boolean,
  stepMs = 100,
): Promise<void> {
  for (let t = 0; t < maxMs && !done(); t += stepMs) {
    clock.advance(stepMs);
    for (let i = 0; i < 20 && !done(); i++)
      await new Promise((r) => setTimeout(r, 2));
  }
}

async function restart(
  p: BatchPersistence,
  options: Partial<BatchPersistenceOptions> = {},
): Promise<BatchPersistence> {
  await p.shutdown();
  return openStore(options);
}

describe('createBatchPersistence', () => {
  it('should reject invalid options naming the option', async () => {
    await expect(createBatchPersistence({ directory: '' })).rejects.toThrow(
      /directory/,
    );
    await expect(
      createBatchPersistence({ directory: dir.path, maxPendingBatches: 0 }),
    ).rejects.toMatchObject({
      code: 'LC_ERR_INVALID_OPTION',
      message: expect.stringMatching(/maxPendingBatches/),
    });
    await expect(
      createBatchPersistence({
        directory: dir.path,
        fsync: 'sometimes' as 'always',
      }),
    ).rejects.toMatchObject({ code: 'LC_ERR_INVALID_OPTION' });
  });

  describe('persist', () => {
    it('should list a persisted batch as pending until every sink delivered', async () => {
      const p = await openStore();
      await p.persist(makeBatch('b1', ['a', 'b'], 4));
      expect(p.pending()).toEqual([
        expect.objectContaining({
          id: 'b1',
          pendingSinks: ['a', 'b'],
          records: 4,
        }),
      ]);
      await p.markDelivered('b1', 'a');
      expect(p.pending()[0]?.pendingSinks).toEqual(['b']);
      await p.markDelivered('b1', 'b');
      expect(p.pending()).toEqual([]);
      expect(p.stats()).toMatchObject({
        persisted: 1,
        settled: 1,
        pendingBatches: 0,
        pendingBytes: 0,
      });
    });

    it('should ignore a second persist of the same id', async () => {
      const p = await openStore();
      await p.persist(makeBatch('b1'));
      await p.persist(makeBatch('b1'));
      expect(p.pending()).toHaveLength(1);
    });

    it('should settle a batch routed to no sink at once', async () => {
      const p = await openStore();
      await p.persist(makeBatch('b1', []));
      expect(p.pending()).toEqual([]);
    });

    it('should wait while maxPendingBatches is reached and go on when one settles', async () => {
      const p = await openStore({ maxPendingBatches: 2 });
      await p.persist(makeBatch('b1'));
      await p.persist(makeBatch('b2'));
      let third = false;
      const waiting = p.persist(makeBatch('b3')).then(() => {
        third = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(third).toBe(false);
      expect(p.stats().waitingPersists).toBe(1);
      await p.markDelivered('b1', 'a');
      await waiting;
      expect(p.pending().map((b) => b.id)).toEqual(['b2', 'b3']);
    });

    it('should wait while maxPendingBytes is reached', async () => {
      const p = await openStore({ maxPendingBytes: 100 });
      await p.persist(makeBatch('b1', ['a'], 5));
      let second = false;
      const waiting = p.persist(makeBatch('b2', ['a'], 5)).then(() => {
        second = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(second).toBe(false);
      await p.markDelivered('b1', 'a');
      await waiting;
      expect(second).toBe(true);
    });

    it('should reject LC_ERR_ABORTED when the signal aborts while waiting', async () => {
      const p = await openStore({ maxPendingBatches: 1 });
      await p.persist(makeBatch('b1'));
      const controller = new AbortController();
      const waiting = p.persist(makeBatch('b2'), { signal: controller.signal });
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'LC_ERR_ABORTED' });
      expect(p.pending().map((b) => b.id)).toEqual(['b1']);
    });
  });

  describe('recover', () => {
    it('should yield unsettled batches of the previous run with their records and pending sinks', async () => {
      let p = await openStore();
      await p.persist(makeBatch('b1', ['a', 'b']));
      await p.persist(makeBatch('b2', ['a']));
      await p.persist(makeBatch('b3', ['a']));
      await p.markDelivered('b1', 'a');
      await p.markDelivered('b2', 'a');
      await p.markFailed('b3', 'a', sinkError(), 2, 1_700_000_999_000);
      p = await restart(p);
      expect(p.stats().recoveredOnOpen).toBe(2);
      const recovered = await collect(p.recover());
      expect(recovered.map((b) => b.id)).toEqual(['b1', 'b3']);
      expect(recovered[0]).toMatchObject({
        pendingSinks: ['b'],
        records: makeRecords('b1'),
      });
      expect(recovered[1]).toMatchObject({
        pendingSinks: ['a'],
        attempts: { a: 2 },
      });
      expect(p.pending()[1]).toMatchObject({
        id: 'b3',
        attempts: { a: 2 },
        lastError: { code: 'LC_ERR_SINK_REJECTED' },
      });
      await p.markDelivered('b1', 'b');
      await p.markDelivered('b3', 'a');
      expect(await collect(p.recover())).toEqual([]);
    });

    it('should accept outcomes and new batches while recover() is streaming', async () => {
      let p = await openStore({ maxSegmentBytes: 4096 });
      for (let i = 0; i < 12; i++)
        await p.persist(makeBatch(`old${i}`, ['a', 'b'], 4));
      p = await restart(p, { maxSegmentBytes: 4096 });
      const seen: string[] = [];
      for await (const b of p.recover()) {
        seen.push(b.id);
        await p.markDelivered(b.id, 'a');
        await p.deadLetter(b.id, 'b', sinkError(), { indexes: [1] });
        await p.persist(makeBatch(`new-${b.id}`, ['a'], 1));
      }
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `old${i}`));
      expect(await p.deadLetters.count()).toBe(12);
      expect(p.pending().map((b) => b.id)).toEqual(
        seen.map((id) => `new-${id}`),
      );
      p = await restart(p, { maxSegmentBytes: 4096 });
      expect((await collect(p.recover())).map((b) => b.id)).toEqual(
        seen.map((id) => `new-${id}`),
      );
    });

    it('should yield batches persisted in this run before the call to a later call (a dispatcher replaced by a reload)', async () => {
      const p = await openStore();
      expect(await collect(p.recover())).toEqual([]);
      await p.persist(makeBatch('n1', ['a', 'b']));
      await p.persist(makeBatch('n2', ['a']));
      await p.markDelivered('n1', 'a');
      await p.markDelivered('n2', 'a');
      const iterator = p.recover()[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value).toMatchObject({
        id: 'n1',
        pendingSinks: ['b'],
        records: makeRecords('n1'),
      });
      // Persisted while it streams: the caller has it already.
      await p.persist(makeBatch('n3', ['a']));
      expect((await iterator.next()).done).toBe(true);
      expect(p.stats().recoveredOnOpen).toBe(0);
    });

    it('should never bring back a settled batch', async () => {
      let p = await openStore();
      for (let i = 0; i < 20; i++) await p.persist(makeBatch(`b${i}`));
      for (let i = 0; i < 20; i += 2) await p.markDelivered(`b${i}`, 'a');
      p = await restart(p);
      const ids = (await collect(p.recover())).map((b) => b.id);
      expect(ids).toEqual(
        Array.from({ length: 10 }, (_, k) => `b${2 * k + 1}`),
      );
      for (const id of ids) await p.markDelivered(id, 'a');
      p = await restart(p);
      expect(await collect(p.recover())).toEqual([]);
      expect(p.pending()).toEqual([]);
    });
  });

  describe('deadLetter', () => {
    it('should move the given records to the DLQ and settle the sink', async () => {
      let p = await openStore();
      await p.persist(makeBatch('b1', ['a', 'b'], 5));
      await p.markDelivered('b1', 'a');
      await p.deadLetter('b1', 'b', sinkError('bad record', 400), {
        indexes: [1, 3],
        attempts: 4,
      });
      expect(p.pending()).toEqual([]);
      const entries = await p.deadLetters.list();
      expect(entries.map((e) => e.record.line)).toEqual([
        makeRecords('b1', 5)[1]?.line,
        makeRecords('b1', 5)[3]?.line,
      ]);
      expect(entries[0]).toMatchObject({
        sink: 'b',
        attempts: 4,
        reason: {
          code: 'LC_ERR_SINK_REJECTED',
          message: 'bad record',
          status: 400,
        },
      });
      p = await restart(p);
      expect(await collect(p.recover())).toEqual([]);
      expect(await p.deadLetters.count()).toBe(2);
    });

    it('should dead-letter every record when no indexes are given', async () => {
      const p = await openStore();
      await p.persist(makeBatch('b1', ['a'], 4));
      await p.markFailed('b1', 'a', sinkError(), 1, 1_700_000_000_500);
      await p.deadLetter('b1', 'a', sinkError());
      expect(await p.deadLetters.count({ sink: 'a' })).toBe(4);
      expect((await p.deadLetters.list())[0]?.attempts).toBe(1);
    });
  });

  describe('batchTtlMs', () => {
    it('should dead-letter expired batches with LC_ERR_BATCH_EXPIRED and say so at warn', async () => {
      const clock = createFakeClock(1_700_000_000_000);
      const warned: { obj: unknown; msg: string }[] = [];
      const logger: Logger = {
        ...silentLogger,
        warn: (obj: unknown, msg?: string) =>
          warned.push({ obj, msg: msg ?? '' }),
        child: () => logger,
      };
      const p = await openStore({
        clock,
        logger,
        batchTtlMs: 60_000,
        checkIntervalMs: 1000,
      });
      await p.persist(makeBatch('old', ['a', 'b'], 2, clock.now()));
      await p.markDelivered('old', 'a');
      clock.advance(30_000);
      await p.persist(makeBatch('young', ['a'], 1, clock.now()));
      await advanceUntil(clock, 45_000, () => p.pending().length === 1, 1000);
      expect(clock.now() - 1_700_000_000_000).toBeGreaterThanOrEqual(60_000);
      expect(p.pending().map((b) => b.id)).toEqual(['young']);
      const entries = await p.deadLetters.list();
      expect(entries).toHaveLength(2);
      expect(entries[0]).toMatchObject({
        sink: 'b',
        reason: {
          code: 'LC_ERR_BATCH_EXPIRED',
          message: expect.stringMatching(/^expired/),
        },
      });
      expect(p.stats().expired).toBe(1);
      expect(warned).toEqual([
        {
          obj: expect.objectContaining({
            sink: 'b',
            records: 2,
            code: 'LC_ERR_BATCH_EXPIRED',
          }),
          msg: expect.stringMatching(
            /^sink b: 2 records failed after \d+ attempts? \(expired: batch old is older than batchTtlMs \(60000 ms\)\); dead-lettered \(kept for replay\)$/,
          ),
        },
      ]);
    });
  });

  describe('recovery loop', () => {
    it('should offer handed-back batches after full-jitter backoff, then dead-letter', async () => {
      const clock = createFakeClock(1_700_000_000_000);
      const offers: { id: string; sinks: readonly string[]; at: number }[] = [];
      const p = await openStore({
        clock,
        random: () => 0.5,
        recoveryBackoffBaseMs: 1000,
        recoveryBackoffMaxMs: 3000,
        maxRecoveryRetries: 3,
        checkIntervalMs: 100,
      });
      p.setRedeliveryHandler(async (batch) => {
        offers.push({
          id: batch.id,
          sinks: batch.pendingSinks,
          at: clock.now(),
        });
        expect(batch.records).toEqual(makeRecords('b1'));
        // The "dispatcher" fails again and hands it back.
        await p.markFailed(
          batch.id,
          'a',
          sinkError('still down'),
          offers.length + 1,
        );
      });
      await p.persist(makeBatch('b1', ['a'], 3, clock.now()));
      await p.markFailed('b1', 'a', sinkError('down'), 1);
      await advanceUntil(clock, 10_000, () => p.pending().length === 0);
      expect(p.pending()).toEqual([]);
      // Offers come at least 500, 1000, 1500 ms apart (backoff with random 0.5).
      expect(offers).toHaveLength(3);
      const at = offers.map((o) => o.at - 1_700_000_000_000);
      expect(at[0]).toBeGreaterThanOrEqual(500);
      expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(
        1000,
      );
      expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(
        1500,
      );
      expect(offers.every((o) => o.id === 'b1' && o.sinks.join() === 'a')).toBe(
        true,
      );
      const dead = await p.deadLetters.list();
      expect(dead).toHaveLength(3);
      expect(dead[0]?.reason.message).toBe('still down');
    });

    it('should keep handed-back batches waiting without a handler', async () => {
      const clock = createFakeClock(1_700_000_000_000);
      const p = await openStore({
        clock,
        checkIntervalMs: 100,
        recoveryBackoffBaseMs: 10,
      });
      await p.persist(makeBatch('b1', ['a'], 1, clock.now()));
      await p.markFailed('b1', 'a', sinkError(), 1);
      clock.advance(10_000);
      await new Promise((r) => setTimeout(r, 20));
      expect(p.pending()).toHaveLength(1);
      expect(p.pending()[0]?.nextAttemptAtMs).toBeLessThanOrEqual(clock.now());
    });
  });

  describe('shutdown', () => {
    it('should reject later calls with LC_ERR_SHUT_DOWN and be idempotent', async () => {
      const p = await openStore();
      await p.shutdown();
      await p.shutdown();
      await expect(p.persist(makeBatch('x'))).rejects.toSatisfy((e) =>
        LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
      await expect(p.markDelivered('x', 'a')).rejects.toMatchObject({
        code: 'LC_ERR_SHUT_DOWN',
      });
    });

    it('should reject persists waiting for room', async () => {
      const p = await openStore({ maxPendingBatches: 1 });
      await p.persist(makeBatch('b1'));
      const waiting = p.persist(makeBatch('b2'));
      await p.shutdown();
      await expect(waiting).rejects.toMatchObject({ code: 'LC_ERR_SHUT_DOWN' });
    });
  });
});
