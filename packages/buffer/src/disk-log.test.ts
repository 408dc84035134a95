import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import { createTempDir, type TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDiskLog,
  type DiskLog,
  type DiskLogEntry,
  type DiskLogOptions,
} from './index.js';

let tmp: TempDir;
const open: DiskLog[] = [];

beforeEach(async () => {
  tmp = await createTempDir('lc-buffer-');
});
afterEach(async () => {
  for (const l of open.splice(0)) await l.shutdown();
  await tmp.cleanup();
});

async function make(options: Partial<DiskLogOptions> = {}): Promise<DiskLog> {
  const log = await createDiskLog({
    directory: join(tmp.path, 'log'),
    ...options,
  });
  open.push(log);
  return log;
}

async function collect(
  it: AsyncIterable<DiskLogEntry>,
): Promise<DiskLogEntry[]> {
  const out: DiskLogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const text = (e: DiskLogEntry): string => e.payload.toString('utf8');

describe('createDiskLog', () => {
  describe('append', () => {
    it('should return consecutive seqs and read them back in order', async () => {
      const log = await make();
      const a = await log.append(Buffer.from('one'), {
        source: 'a',
        timestampMs: 10,
      });
      const b = await log.append(Buffer.from('two'));
      expect(b).toBe(a + 1);
      expect(log.nextSeq).toBe(b + 1);
      const got = await collect(log.read());
      expect(got.map(text)).toEqual(['one', 'two']);
      expect(got[0]).toMatchObject({ seq: a, source: 'a', timestampMs: 10 });
      expect(got[1]?.source).toBeUndefined();
    });

    it('should reject a record larger than a segment with LC_ERR_RECORD_TOO_LARGE', async () => {
      const log = await make({ maxSegmentBytes: 4096 });
      await expect(log.append(Buffer.alloc(5000))).rejects.toSatisfy((e) =>
        LcError.isInstance(e, 'LC_ERR_RECORD_TOO_LARGE'),
      );
    });

    it('should reject after shutdown with LC_ERR_SHUT_DOWN', async () => {
      const log = await make();
      await log.shutdown();
      await expect(log.append(Buffer.from('x'))).rejects.toSatisfy((e) =>
        LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
      expect(() => log.ack(1)).toThrow(LcError);
    });
  });

  describe('appendMany', () => {
    it('should write many records in one group commit with fsync=always', async () => {
      const log = await make({ fsync: 'always' });
      const seqs = await log.appendMany(
        Array.from({ length: 100 }, (_, i) => ({
          payload: Buffer.from(`r${i}`),
          source: i % 2 ? 'odd' : 'even',
        })),
      );
      expect(seqs).toHaveLength(100);
      expect(
        seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1),
      ).toBe(true);
      expect(log.stats().fsyncs).toBeLessThanOrEqual(3);
      const odd = await collect(log.read({ source: 'odd' }));
      expect(odd.map(text)).toEqual(
        Array.from({ length: 50 }, (_, i) => `r${i * 2 + 1}`),
      );
    });
  });

  describe('flush', () => {
    it('should fdatasync on the fsyncIntervalMs timer under fsync=interval, and on flush()', async () => {
      const clock = createFakeClock();
      const log = await make({
        fsync: 'interval',
        fsyncIntervalMs: 500,
        clock,
      });
      await log.append(Buffer.from('a'));
      const before = log.stats().fsyncs;
      clock.advance(499);
      await new Promise((r) => setTimeout(r, 50));
      expect(log.stats().fsyncs).toBe(before);
      clock.advance(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(log.stats().fsyncs).toBeGreaterThan(before);
      const afterTimer = log.stats().fsyncs;
      await log.append(Buffer.from('b'));
      await log.flush();
      expect(log.stats().fsyncs).toBeGreaterThan(afterTimer);
    });
  });

  describe('read', () => {
    it('should not include records appended after the iteration started', async () => {
      const log = await make();
      await log.appendMany([
        { payload: Buffer.from('1') },
        { payload: Buffer.from('2') },
      ]);
      const seen: string[] = [];
      for await (const e of log.read()) {
        seen.push(text(e));
        await log.append(Buffer.from(`late-${e.seq}`));
      }
      expect(seen).toEqual(['1', '2']);
      expect((await collect(log.read())).map(text)).toEqual([
        '1',
        '2',
        'late-1',
        'late-2',
      ]);
    });

    it('should rotate segments at maxSegmentBytes and read across them', async () => {
      const log = await make({ maxSegmentBytes: 4096 });
      for (let i = 0; i < 200; i++) await log.append(Buffer.alloc(100, i));
      expect(log.stats().segments).toBeGreaterThan(4);
      const got = await collect(log.read());
      expect(got.map((e) => e.payload[0])).toEqual(
        Array.from({ length: 200 }, (_, i) => i % 256),
      );
    });

    it('should filter by fromSeq and time range, skipping segments', async () => {
      const log = await make({ maxSegmentBytes: 4096 });
      const seqs: number[] = [];
      for (let i = 0; i < 100; i++)
        seqs.push(
          await log.append(Buffer.alloc(100), { timestampMs: 1000 + i }),
        );
      const from = await collect(log.read({ fromSeq: seqs[90] }));
      expect(from.map((e) => e.seq)).toEqual(seqs.slice(90));
      const window = await collect(
        log.read({ fromTimestampMs: 1010, toTimestampMs: 1019 }),
      );
      expect(window.map((e) => e.timestampMs)).toEqual(
        Array.from({ length: 10 }, (_, i) => 1010 + i),
      );
    });
  });

  describe('ack', () => {
    it('should hide acknowledged records and delete fully acknowledged segments', async () => {
      const log = await make({ maxSegmentBytes: 4096 });
      const seqs: number[] = [];
      for (let i = 0; i < 100; i++)
        seqs.push(await log.append(Buffer.alloc(100, 1)));
      const before = log.stats().segments;
      log.ack([...seqs.slice(0, 80)].reverse());
      await log.flush();
      expect(log.stats().segments).toBeLessThan(before);
      expect(log.stats().unackedRecords).toBe(20);
      const got = await collect(log.read());
      expect(got.map((e) => e.seq)).toEqual(seqs.slice(80));
      const all = await collect(log.read({ includeAcknowledged: true }));
      expect(all.length).toBeGreaterThanOrEqual(20);
    });

    it('should keep acknowledgements across a restart', async () => {
      const log = await make({ maxSegmentBytes: 4096 });
      const seqs: number[] = [];
      for (let i = 0; i < 50; i++)
        seqs.push(await log.append(Buffer.from(`m${i}`)));
      log.ack(seqs.filter((s) => s % 3 === 0));
      await log.shutdown();
      const again = await make({ maxSegmentBytes: 4096 });
      const got = await collect(again.read());
      expect(got.map((e) => e.seq)).toEqual(seqs.filter((s) => s % 3 !== 0));
      expect(again.nextSeq).toBe((seqs[49] as number) + 1);
      const next = await again.append(Buffer.from('new'));
      expect(next).toBe((seqs[49] as number) + 1);
    });

    it('should never reuse seqs after every segment was acknowledged and deleted', async () => {
      const log = await make({ maxSegmentBytes: 4096 });
      const seqs: number[] = [];
      for (let i = 0; i < 100; i++)
        seqs.push(await log.append(Buffer.alloc(100)));
      log.ack(seqs);
      await log.shutdown();
      const again = await make({ maxSegmentBytes: 4096 });
      expect(await collect(again.read())).toEqual([]);
      expect(await again.append(Buffer.from('x'))).toBe(
        (seqs[99] as number) + 1,
      );
      const files = await readdir(join(tmp.path, 'log'));
      expect(
        files.filter((f) => f.endsWith('.log') && f.startsWith('seg-')).length,
      ).toBeLessThanOrEqual(2);
    });

    it('should throw LC_ERR_INVALID_INPUT for a seq never appended', async () => {
      const log = await make();
      expect(() => log.ack(99)).toThrow(
        expect.objectContaining({ code: 'LC_ERR_INVALID_INPUT' }) as Error,
      );
    });
  });
});
