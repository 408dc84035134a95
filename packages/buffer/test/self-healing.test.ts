import { open, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, type TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDiskLog,
  type DiskLog,
  type DiskLogOptions,
} from '../src/index.js';
import { collect, flipByte, quarantineFiles, segmentFiles } from './helpers.js';

let tmp: TempDir;
let dir: string;
const logs: DiskLog[] = [];

beforeEach(async () => {
  tmp = await createTempDir('lc-buffer-heal-');
  dir = join(tmp.path, 'log');
});
afterEach(async () => {
  for (const l of logs.splice(0)) await l.shutdown();
  await tmp.cleanup();
});

async function make(options: Partial<DiskLogOptions> = {}): Promise<DiskLog> {
  const log = await createDiskLog({
    directory: dir,
    fsync: 'always',
    ...options,
  });
  logs.push(log);
  return log;
}

async function fill(
  n: number,
  options: Partial<DiskLogOptions> = {},
): Promise<number[]> {
  const log = await make(options);
  const seqs: number[] = [];
  for (let i = 0; i < n; i++)
    seqs.push(
      await log.append(Buffer.from(`record-${String(i).padStart(4, '0')}`)),
    );
  await log.shutdown();
  logs.pop();
  return seqs;
}

const payloads = (entries: { payload: Buffer }[]): string[] =>
  entries.map((e) => e.payload.toString());

describe('createDiskLog', () => {
  describe('self-healing', () => {
    it('should truncate and quarantine a torn tail, then keep appending', async () => {
      const seqs = await fill(10);
      const [seg] = await segmentFiles(dir);
      const path = join(dir, seg as string);
      const size = (await readFile(path)).length;
      await truncate(path, size - 5); // the last record is cut mid-write
      const log = await make();
      expect(log.stats().corruptions).toBe(1);
      expect(await quarantineFiles(dir)).toHaveLength(1);
      const got = await collect(log.read());
      expect(got.map((e) => e.seq)).toEqual(seqs.slice(0, 9));
      const next = await log.append(Buffer.from('after'));
      expect(next).toBeGreaterThan(seqs[8] as number);
      expect(payloads(await collect(log.read({ fromSeq: next })))).toEqual([
        'after',
      ]);
    });

    it('should skip and quarantine a corrupt record in the middle, found at read time', async () => {
      const seqs = await fill(10);
      const [seg] = await segmentFiles(dir);
      const path = join(dir, seg as string);
      const data = await readFile(path);
      const at = data.indexOf('record-0004');
      flipByte(data, at + 3);
      await writeFile(path, data);
      const log = await make();
      const got = await collect(log.read());
      expect(payloads(got)).not.toContain('record-0004');
      expect(got.map((e) => e.seq)).toEqual(seqs.filter((_, i) => i !== 4));
      expect(log.stats().corruptions).toBe(1);
      expect(log.stats().lostRecords).toBe(1);
      expect(await quarantineFiles(dir)).toHaveLength(1);
      // The lost record counts as settled: acking the rest deletes the segment.
      log.ack(got.map((e) => e.seq));
      await log.append(Buffer.from('x'));
      await log.flush();
      await log.shutdown();
      logs.pop();
      const again = await make();
      expect(payloads(await collect(again.read()))).toEqual(['x']);
    });

    it('should heal a corrupt middle record found at open when the index is missing', async () => {
      const seqs = await fill(10);
      const [seg] = await segmentFiles(dir);
      const path = join(dir, seg as string);
      await unlink(path.replace(/\.log$/, '.idx'));
      const data = await readFile(path);
      flipByte(data, data.indexOf('record-0002') - 10, 0x01); // inside the frame header
      await writeFile(path, data);
      const log = await make();
      expect(log.stats().corruptions).toBe(1);
      const got = await collect(log.read());
      expect(got.map((e) => e.seq)).toEqual(seqs.filter((_, i) => i !== 2));
    });

    it('should quarantine a zero-length segment and keep going', async () => {
      const seqs = await fill(5);
      await writeFile(
        join(dir, `seg-${String(9999).padStart(16, '0')}.log`),
        '',
      );
      const log = await make();
      expect(log.stats().corruptions).toBe(1);
      expect(payloads(await collect(log.read()))).toHaveLength(seqs.length);
      expect(await quarantineFiles(dir)).toHaveLength(1);
      expect(await log.append(Buffer.from('z'))).toBeGreaterThanOrEqual(9999);
    });

    it('should quarantine a segment with a damaged header', async () => {
      await fill(5, { maxSegmentBytes: 4096 });
      const log0 = await make({ maxSegmentBytes: 4096 });
      for (let i = 0; i < 5; i++) await log0.append(Buffer.from(`second-${i}`));
      await log0.shutdown();
      logs.pop();
      const [first] = await segmentFiles(dir);
      const fh = await open(join(dir, first as string), 'r+');
      await fh.write(Buffer.from('XXXX'), 0, 4, 0);
      await fh.close();
      const log = await make({ maxSegmentBytes: 4096 });
      expect(log.stats().corruptions).toBe(1);
      expect(payloads(await collect(log.read()))).toEqual(
        [0, 1, 2, 3, 4].map((i) => `second-${i}`),
      );
    });

    it('should count a missing segment and read around it', async () => {
      const log0 = await make({ maxSegmentBytes: 4096 });
      const seqs: number[] = [];
      for (let i = 0; i < 120; i++)
        seqs.push(await log0.append(Buffer.alloc(100, i)));
      await log0.shutdown();
      logs.pop();
      const files = await segmentFiles(dir);
      expect(files.length).toBeGreaterThanOrEqual(3);
      await unlink(join(dir, files[1] as string));
      const log = await make({ maxSegmentBytes: 4096 });
      expect(log.stats().corruptions).toBe(1);
      const got = await collect(log.read());
      expect(got.length).toBeLessThan(120);
      expect(got.length + log.stats().lostRecords).toBe(120);
      // Still in order, no duplicates.
      expect(
        got.every((e, i) => i === 0 || e.seq > (got[i - 1]?.seq as number)),
      ).toBe(true);
    });

    it('should ignore a torn ack journal tail and a corrupt checkpoint', async () => {
      const log0 = await make();
      const seqs: number[] = [];
      for (let i = 0; i < 10; i++)
        seqs.push(await log0.append(Buffer.from(`a${i}`)));
      log0.ack(seqs.slice(0, 5));
      await log0.shutdown();
      logs.pop();
      await writeFile(
        join(dir, 'acks.log'),
        Buffer.from([1, 2, 3, 4, 5, 6, 7]),
        { flag: 'a' },
      );
      let log = await make();
      expect(log.stats().corruptions).toBe(1);
      expect((await collect(log.read())).map((e) => e.seq)).toEqual(
        seqs.slice(5),
      );
      await log.shutdown();
      logs.pop();
      await writeFile(join(dir, 'acks.ckpt'), 'garbage');
      log = await make();
      expect(log.stats().corruptions).toBe(1);
      // Acks are lost with the checkpoint: records come back (at least once).
      expect((await collect(log.read())).length).toBe(10);
      expect(await log.append(Buffer.from('n'))).toBeGreaterThan(
        seqs[9] as number,
      );
    });
  });
});
