import { join } from 'node:path';
import { LcError } from '@lc/core';
import { createTempDir, type TempDir } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDiskLog,
  type DiskLog,
  type DiskLogOptions,
} from '../src/index.js';
import { collect } from './helpers.js';

let tmp: TempDir;
let dir: string;
const logs: DiskLog[] = [];

beforeEach(async () => {
  tmp = await createTempDir('lc-buffer-ret-');
  dir = join(tmp.path, 'log');
});
afterEach(async () => {
  for (const l of logs.splice(0)) await l.shutdown();
  await tmp.cleanup();
});

async function make(options: Partial<DiskLogOptions> = {}): Promise<DiskLog> {
  const log = await createDiskLog({
    directory: dir,
    fsync: 'never',
    maxSegmentBytes: 4096,
    ...options,
  });
  logs.push(log);
  return log;
}

const rec = Buffer.alloc(200, 7);

describe('createDiskLog', () => {
  describe('retention', () => {
    it('should drop the oldest segments at maxTotalBytes, counted in stats and metrics', async () => {
      const registry = new Registry();
      const log = await make({
        retention: { maxTotalBytes: 20_000 },
        registry,
        name: 'ret',
      });
      const seqs: number[] = [];
      for (let i = 0; i < 500; i++) seqs.push(await log.append(rec));
      expect(log.stats().diskBytes).toBeLessThanOrEqual(20_000);
      const dropped = log.stats().droppedRecords;
      expect(dropped).toBeGreaterThan(0);
      const got = await collect(log.read());
      // What is left is the newest, contiguous suffix.
      expect(got.map((e) => e.seq)).toEqual(
        seqs.slice(seqs.length - got.length),
      );
      expect(got.length + dropped).toBe(500);
      const metric = await registry
        .getSingleMetric('lc_buffer_dropped_records_total')
        ?.get();
      expect(
        metric?.values.find((v) => v.labels.reason === 'retention-limit')
          ?.value,
      ).toBe(dropped);
    });

    it('should enforce maxSegments', async () => {
      const log = await make({ retention: { maxSegments: 3 } });
      for (let i = 0; i < 300; i++) await log.append(rec);
      expect(log.stats().segments).toBeLessThanOrEqual(3);
      expect(log.stats().droppedRecords).toBeGreaterThan(0);
    });

    it('should reject with LC_ERR_BUFFER_FULL under onLimit=fail and accept again after acks', async () => {
      const log = await make({
        retention: { maxTotalBytes: 12_000, onLimit: 'fail' },
      });
      const seqs: number[] = [];
      let error: unknown;
      for (let i = 0; i < 200 && error === undefined; i++) {
        try {
          seqs.push(await log.append(rec));
        } catch (e) {
          error = e;
        }
      }
      expect(LcError.isInstance(error, 'LC_ERR_BUFFER_FULL')).toBe(true);
      expect(log.stats().droppedRecords).toBe(0);
      expect((await collect(log.read())).map((e) => e.seq)).toEqual(seqs);
      log.ack(seqs);
      await log.flush();
      await expect(log.append(rec)).resolves.toBeGreaterThan(
        seqs[seqs.length - 1] as number,
      );
    });

    it('should make the writer wait under onLimit=block until acks free space', async () => {
      const log = await make({
        retention: { maxTotalBytes: 12_000, onLimit: 'block' },
      });
      const seqs: number[] = [];
      for (let i = 0; i < 40; i++) seqs.push(await log.append(rec));
      const pending: Promise<number>[] = [];
      for (let i = 0; i < 40; i++) pending.push(log.append(rec));
      let settled = 0;
      for (const p of pending) void p.then(() => settled++);
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBeLessThan(40);
      expect(log.stats().blockedAppends).toBe(1);
      log.ack(seqs);
      const more = await Promise.all(pending);
      expect(more).toHaveLength(40);
      expect(log.stats().droppedRecords).toBe(0);
      expect((await collect(log.read())).map((e) => e.seq)).toEqual(more);
    });

    it('should delete segments older than maxAgeMs at open, counting unacked drops', async () => {
      const old = Date.now() - 60_000;
      const log0 = await make();
      for (let i = 0; i < 50; i++) await log0.append(rec, { timestampMs: old });
      await log0.shutdown();
      logs.pop();
      const log = await make({ retention: { maxAgeMs: 10_000 } });
      expect(log.stats().droppedRecords).toBe(50);
      expect(await collect(log.read())).toEqual([]);
    });
  });
});
