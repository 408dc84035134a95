// Disk full on a real 8 MiB tmpfs: persist fails with LC_ERR_DISK_FULL
// without leaking its pending budget, batches already held can still be
// settled (which frees the space), persisting resumes, and a restart
// recovers exactly the unsettled batches. Needs root (mount); CI is root.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchPersistence } from '../../src/batch-persistence.js';
import type { BatchPersistence } from '../../src/batch-persistence.js';
import { collect, makeBatch } from '../helpers.js';

let tmp: TempDir;
let mountPoint: string;
let mounted = false;

beforeAll(async () => {
  tmp = await createTempDir('lc-persistence-full-');
  mountPoint = join(tmp.path, 'small');
  await mkdir(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
  mounted = true;
});
afterAll(async () => {
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  await tmp.cleanup();
});

describe('createBatchPersistence', () => {
  describe('disk full', () => {
    it('should reject LC_ERR_DISK_FULL, keep held batches settleable, and resume', async () => {
      const options = {
        directory: join(mountPoint, 'wal'),
        fsync: 'always' as const,
        maxSegmentBytes: 256 * 1024,
      };
      let p: BatchPersistence = await createBatchPersistence(options);
      const held: string[] = [];
      let failure: unknown;
      for (let i = 0; i < 10_000 && failure === undefined; i++) {
        try {
          await p.persist(makeBatch(`b${i}`, ['a'], 40));
          held.push(`b${i}`);
        } catch (error) {
          failure = error;
        }
      }
      expect(LcError.isInstance(failure, 'LC_ERR_DISK_FULL')).toBe(true);
      expect(held.length).toBeGreaterThan(100);
      // The failed persist gave its budget back.
      expect(p.stats().pendingBatches).toBe(held.length);
      expect(p.pending().map((b) => b.id)).toEqual(held);

      // Settling frees space even though the disk is full.
      const settled = held.splice(0, Math.floor(held.length / 2));
      for (const id of settled) await p.markDelivered(id, 'a');
      expect(p.stats().pendingBatches).toBe(held.length);
      await p.flush();
      await p.persist(makeBatch('after', ['a'], 40));
      held.push('after');

      await p.shutdown();
      p = await createBatchPersistence(options);
      try {
        expect((await collect(p.recover())).map((b) => b.id)).toEqual(held);
      } finally {
        await p.shutdown();
      }
    });
  });
});
