import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import { createTempDir, type TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  crc32c,
  createDiskLog,
  type DiskLog,
  type DiskLogOptions,
} from '../src/index.js';
import { collect, flipByte, segmentFiles } from './helpers.js';

let tmp: TempDir;
let dir: string;
const logs: DiskLog[] = [];
const key = randomBytes(32);

beforeEach(async () => {
  tmp = await createTempDir('lc-buffer-enc-');
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

async function closeLast(): Promise<void> {
  await logs.pop()?.shutdown();
}

const SECRET = 'card=4111-1111-1111-1111';

describe('createDiskLog', () => {
  describe('compression and encryption', () => {
    it('should round-trip gzip blocks and shrink compressible data', async () => {
      const log = await make({ compression: 'gzip' });
      const line = Buffer.from('GET /api/v1/things status=200 '.repeat(6));
      await log.appendMany(
        Array.from({ length: 500 }, (_, i) => ({
          payload: line,
          source: `s${i % 3}`,
        })),
      );
      expect(log.stats().diskBytes).toBeLessThan((line.length * 500) / 5);
      await closeLast();
      const again = await make({ compression: 'gzip' });
      const got = await collect(again.read({ source: 's1' }));
      expect(got).toHaveLength(167);
      expect(got.every((e) => e.payload.equals(line))).toBe(true);
    });

    it('should round-trip AES-256-GCM blocks across a restart without plaintext on disk', async () => {
      const log = await make({ encryptionKey: key, compression: 'gzip' });
      for (let i = 0; i < 20; i++)
        await log.append(Buffer.from(`${SECRET} #${i}`), { source: 'pay' });
      await closeLast();
      for (const f of await segmentFiles(dir)) {
        expect((await readFile(join(dir, f))).includes(SECRET)).toBe(false);
      }
      const again = await make({ encryptionKey: key });
      const got = await collect(again.read());
      expect(got.map((e) => e.payload.toString())).toEqual(
        Array.from({ length: 20 }, (_, i) => `${SECRET} #${i}`),
      );
      expect(got[0]?.source).toBe('pay');
    });

    it('should refuse to open with a wrong or missing key with LC_ERR_DECRYPT', async () => {
      const log = await make({ encryptionKey: key });
      await log.append(Buffer.from(SECRET));
      await closeLast();
      await expect(
        createDiskLog({ directory: dir, encryptionKey: randomBytes(32) }),
      ).rejects.toSatisfy((e) => LcError.isInstance(e, 'LC_ERR_DECRYPT'));
      await expect(createDiskLog({ directory: dir })).rejects.toSatisfy((e) =>
        LcError.isInstance(e, 'LC_ERR_DECRYPT'),
      );
    });

    it('should detect tampered ciphertext even when the checksum is forged', async () => {
      const log = await make({ encryptionKey: key });
      await log.append(Buffer.from('first'));
      await log.append(Buffer.from('second'));
      await closeLast();
      const [seg] = await segmentFiles(dir);
      const path = join(dir, seg as string);
      const data = await readFile(path);
      // Second frame: after the 64-byte segment header and the first frame.
      const firstLen = 32 + data.readUInt32LE(64 + 4);
      const second = 64 + firstLen;
      const bodyLen = data.readUInt32LE(second + 4);
      flipByte(data, second + 32 + bodyLen - 1, 0x5a); // last ciphertext byte
      data.writeUInt32LE(
        crc32c(data, second + 12, second + 32 + bodyLen),
        second + 8,
      );
      await writeFile(path, data);
      const errors: unknown[] = [];
      const again = await make({
        encryptionKey: key,
        onError: (e) => errors.push(e),
      });
      const got = await collect(again.read());
      expect(got.map((e) => e.payload.toString())).toEqual(['first']);
      expect(errors.some((e) => LcError.isInstance(e, 'LC_ERR_DECRYPT'))).toBe(
        true,
      );
      expect(again.stats().corruptions).toBe(1);
      expect(again.stats().lostRecords).toBe(1);
    });

    it('should reject a key that is not 32 bytes with LC_ERR_INVALID_OPTION', async () => {
      await expect(
        createDiskLog({ directory: dir, encryptionKey: randomBytes(16) }),
      ).rejects.toSatisfy((e) =>
        LcError.isInstance(e, 'LC_ERR_INVALID_OPTION'),
      );
    });
  });
});
