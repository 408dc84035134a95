// Disk full on a real 8 MiB tmpfs: the writer fails with LC_ERR_DISK_FULL,
// nothing already written is damaged, and writing resumes once acks free
// space. Needs root (mount); CI runs as root.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import { createTempDir, type TempDir } from '@lc/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskLog } from '../../src/index.js';
import { collect } from '../helpers.js';

let tmp: TempDir;
let mountPoint: string;
let mounted = false;

beforeAll(async () => {
  tmp = await createTempDir('lc-buffer-full-');
  mountPoint = join(tmp.path, 'small');
  await mkdir(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
  mounted = true;
});
afterAll(async () => {
  // Lazy: a failed test may still hold files open on it.
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  await tmp.cleanup();
});

const payloadFor = (i: number): Buffer => Buffer.alloc(4096, i % 251);

describe('createDiskLog', () => {
  describe('disk full', () => {
    it('should reject with LC_ERR_DISK_FULL, keep what was written, and resume after acks', async () => {
      const dir = join(mountPoint, 'log');
      const errors: unknown[] = [];
      const options = {
        directory: dir,
        fsync: 'always' as const,
        maxSegmentBytes: 512 * 1024,
        onError: (e: unknown) => errors.push(e),
      };
      let log = await createDiskLog(options);
      const written = new Map<number, number>();
      let failure: unknown;
      for (let i = 0; i < 5000 && failure === undefined; i++) {
        try {
          written.set(await log.append(payloadFor(i)), i);
        } catch (error) {
          failure = error;
        }
      }
      expect(LcError.isInstance(failure, 'LC_ERR_DISK_FULL')).toBe(true);
      expect(written.size).toBeGreaterThan(1000);
      // Still full: fails the same way, does not crash or corrupt.
      await expect(log.append(payloadFor(0))).rejects.toSatisfy((e) =>
        LcError.isInstance(e, 'LC_ERR_DISK_FULL'),
      );
      await log.shutdown();

      log = await createDiskLog(options);
      expect(log.stats().corruptions).toBe(0);
      const got = await collect(log.read());
      expect(got.map((e) => e.seq)).toEqual([...written.keys()]);
      for (const e of got)
        expect(e.payload.equals(payloadFor(written.get(e.seq) as number))).toBe(
          true,
        );

      // Free space by acknowledging the older half; appends work again.
      const seqs = [...written.keys()];
      log.ack(seqs.slice(0, Math.floor(seqs.length / 2)));
      await log.flush();
      const more: number[] = [];
      for (let i = 0; i < 200; i++) more.push(await log.append(payloadFor(i)));
      expect(more[0]).toBeGreaterThan(seqs[seqs.length - 1] as number);
      await log.shutdown();

      log = await createDiskLog(options);
      const after = await collect(log.read());
      expect(after.map((e) => e.seq)).toEqual([
        ...seqs.slice(Math.floor(seqs.length / 2)),
        ...more,
      ]);
      await log.shutdown();
    });
  });
});
