import { createFakeClock, createInMemorySink } from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LcError, silentLogger, WriteResults } from '@lc/core';
import type { DeadLetterEntry, Logger } from '@lc/core';
import { makeRecords } from '../test/helpers.js';
import { createDeadLetterStore } from './dead-letter-store.js';
import type { DiskDeadLetterStore } from './dead-letter-store.js';

let dir: TempDir;
const open: DiskDeadLetterStore[] = [];

beforeEach(async () => {
  dir = await createTempDir('lc-dlq-');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await dir.cleanup();
});

async function openStore(): Promise<DiskDeadLetterStore> {
  const s = await createDeadLetterStore({ directory: dir.path });
  open.push(s);
  return s;
}

const T0 = 1_700_000_000_000;

function entries(
  n: number,
  sink: string,
  code: string,
  atMs: number,
): Omit<DeadLetterEntry, 'id'>[] {
  return makeRecords(`${sink}-${code}-${atMs}`, n).map((record) => ({
    record,
    sink,
    reason: { code, message: `${code} happened`, status: 400 },
    attempts: 3,
    firstFailureAtMs: atMs - 10,
    lastFailureAtMs: atMs,
  }));
}

describe('createDeadLetterStore', () => {
  describe('add', () => {
    it('should keep entries across close and reopen, with unique ids', async () => {
      let s = await openStore();
      await s.add(entries(3, 'loki', 'LC_ERR_SINK_REJECTED', T0));
      expect(s.added).toBe(3);
      await s.close();
      s = await openStore();
      const list = await s.list();
      expect(list).toHaveLength(3);
      expect(new Set(list.map((e) => e.id)).size).toBe(3);
      expect(list[0]).toMatchObject({
        sink: 'loki',
        attempts: 3,
        firstFailureAtMs: T0 - 10,
        lastFailureAtMs: T0,
        reason: { code: 'LC_ERR_SINK_REJECTED', status: 400 },
      });
      expect(list.map((e) => e.record)).toEqual(
        makeRecords(`loki-LC_ERR_SINK_REJECTED-${T0}`, 3),
      );
    });

    it('should warn once per sink every 10 s, naming cause and attempts, and count the entries held back in the next warning', async () => {
      const clock = createFakeClock(T0);
      const warned: { obj: Record<string, unknown>; msg: string }[] = [];
      const logger: Logger = {
        ...silentLogger,
        warn: (obj: unknown, msg?: string) =>
          warned.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }),
        child: () => logger,
      };
      const s = await createDeadLetterStore({
        directory: dir.path,
        logger,
        clock,
      });
      open.push(s);
      await s.add(entries(2, 'loki', 'LC_ERR_SINK_REJECTED', T0));
      await s.add(entries(3, 'loki', 'LC_ERR_SINK_REJECTED', T0));
      await s.add(entries(1, 'kafka', 'LC_ERR_RECORD_TOO_LARGE', T0));
      expect(warned.map((w) => w.msg)).toEqual([
        'sink loki: 2 records failed after 3 attempts (LC_ERR_SINK_REJECTED happened); dead-lettered (kept for replay)',
        'sink kafka: 1 record failed after 3 attempts (LC_ERR_RECORD_TOO_LARGE happened); dead-lettered (kept for replay)',
      ]);
      clock.advance(10_000);
      await s.add(entries(1, 'loki', 'LC_ERR_SINK_REJECTED', T0));
      expect(warned[2]?.obj).toEqual({
        sink: 'loki',
        records: 1,
        code: 'LC_ERR_SINK_REJECTED',
        cause: 'LC_ERR_SINK_REJECTED happened',
        attempts: 3,
        alsoSinceLastLog: 3,
      });
    });

    it('should reject LC_ERR_SHUT_DOWN after close', async () => {
      const s = await openStore();
      await s.close();
      await expect(s.add(entries(1, 'a', 'X', T0))).rejects.toMatchObject({
        code: 'LC_ERR_SHUT_DOWN',
      });
    });
  });

  describe('list', () => {
    it('should filter by sink, code and time, and page with limit and offset', async () => {
      const s = await openStore();
      await s.add(entries(2, 'loki', 'LC_ERR_SINK_REJECTED', T0));
      await s.add(entries(2, 'kafka', 'LC_ERR_SINK_REJECTED', T0 + 1000));
      await s.add(entries(2, 'loki', 'LC_ERR_BATCH_EXPIRED', T0 + 2000));
      expect(await s.count()).toBe(6);
      expect(await s.count({ sink: 'loki' })).toBe(4);
      expect(await s.count({ code: 'LC_ERR_SINK_REJECTED' })).toBe(4);
      expect(
        await s.count({ sink: 'loki', code: 'LC_ERR_BATCH_EXPIRED' }),
      ).toBe(2);
      expect(await s.count({ sinceMs: T0 + 1000 })).toBe(4);
      expect(await s.count({ untilMs: T0 + 1000 })).toBe(2);
      expect(await s.count({ sinceMs: T0 + 1000, untilMs: T0 + 2000 })).toBe(2);
      const page = await s.list({ limit: 2, offset: 1 });
      const all = await s.list();
      expect(page.map((e) => e.id)).toEqual(all.slice(1, 3).map((e) => e.id));
    });
  });

  describe('purge', () => {
    it('should remove matching entries only, durably', async () => {
      let s = await openStore();
      await s.add(entries(2, 'loki', 'A', T0));
      await s.add(entries(3, 'kafka', 'B', T0));
      expect(await s.purge({ sink: 'kafka' })).toBe(3);
      await s.close();
      s = await openStore();
      expect((await s.list()).map((e) => e.sink)).toEqual(['loki', 'loki']);
      expect(await s.purge()).toBe(2);
      expect(await s.count()).toBe(0);
    });
  });

  describe('replay', () => {
    it('should remove delivered entries and report progress', async () => {
      const s = await openStore();
      await s.add(entries(5, 'loki', 'A', T0));
      await s.add(entries(1, 'kafka', 'A', T0));
      const sink = createInMemorySink({ name: 'loki' });
      const progress: { done: number; total: number; failed: number }[] = [];
      const result = await s.replay({
        sink,
        filter: { sink: 'loki' },
        batchSize: 2,
        onProgress: (p) => progress.push(p),
      });
      expect(result).toEqual({ replayed: 5, failed: 0 });
      expect(progress).toEqual([
        { done: 2, total: 5, failed: 0 },
        { done: 4, total: 5, failed: 0 },
        { done: 5, total: 5, failed: 0 },
      ]);
      expect(sink.records.map((r) => r.line)).toEqual(
        makeRecords(`loki-A-${T0}`, 5).map((r) => r.line),
      );
      expect((await s.list()).map((e) => e.sink)).toEqual(['kafka']);
    });

    it('should keep failed entries with attempts raised and the new reason', async () => {
      const s = await openStore();
      await s.add(entries(4, 'loki', 'A', T0));
      const sink = createInMemorySink({ name: 'loki' });
      const err = new LcError({
        code: 'LC_ERR_SINK_REJECTED',
        message: 'still bad',
      });
      sink.enqueueBehaviour(
        WriteResults.partial([{ index: 1, retryable: false, error: err }], 4),
      );
      const before = await s.list();
      const result = await s.replay({ sink });
      expect(result).toEqual({ replayed: 3, failed: 1 });
      const after = await s.list();
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({
        id: before[1]?.id,
        attempts: 4,
        reason: { code: 'LC_ERR_SINK_REJECTED', message: 'still bad' },
      });
      // A second replay, now succeeding, empties the store.
      expect(await s.replay({ sink })).toEqual({ replayed: 1, failed: 0 });
      expect(await s.count()).toBe(0);
    });

    it('should keep everything when the sink fails the whole write', async () => {
      const s = await openStore();
      await s.add(entries(3, 'loki', 'A', T0));
      const sink = createInMemorySink({ name: 'loki', behaviour: 'retryable' });
      expect(await s.replay({ sink })).toEqual({ replayed: 0, failed: 3 });
      expect((await s.list()).map((e) => e.attempts)).toEqual([4, 4, 4]);
    });
  });
});
