import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import {
  computeFingerprint,
  computeOffsetMarker,
  fileSourceId,
  fingerprintOf,
  observeFile,
} from './file-identity.js';
import { hashHex } from './internal/hash.js';

describe('fileSourceId', () => {
  it('should join device and inode', () => {
    expect(fileSourceId('2049', '18446744073709551615')).toBe(
      '2049:18446744073709551615',
    );
  });
});

describe('file identity helpers', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await createTempDir('lc-pos-id-');
  });
  afterEach(() => dir.cleanup());

  const withFile = async <T>(
    content: Buffer | string,
    fn: (fd: number) => Promise<T>,
  ): Promise<T> => {
    const path = join(dir.path, 'f.log');
    await writeFile(path, content);
    const handle = await open(path, 'r');
    try {
      return await fn(handle.fd);
    } finally {
      await handle.close();
    }
  };

  describe('computeFingerprint', () => {
    it('should cover min(size, maxBytes) and grow with a short file', async () => {
      const a = await withFile('hello\n', (fd) => computeFingerprint(fd));
      expect(a).toEqual({
        fingerprint: hashHex(Buffer.from('hello\n')),
        fingerprintBytes: 6,
      });
      const big = Buffer.alloc(5000, 'x');
      const b = await withFile(big, (fd) => computeFingerprint(fd));
      expect(b).toEqual({
        fingerprint: hashHex(big.subarray(0, 1024)),
        fingerprintBytes: 1024,
      });
    });

    it('should equal fingerprintOf over the same head bytes', async () => {
      const big = Buffer.alloc(3000, 'y');
      expect(await withFile(big, (fd) => computeFingerprint(fd))).toEqual(
        fingerprintOf(big.subarray(0, 1024)),
      );
    });

    it('should give an empty file 0 bytes', async () => {
      expect(
        (await withFile('', (fd) => computeFingerprint(fd))).fingerprintBytes,
      ).toBe(0);
    });

    it('should accept a FileHandle and reject a negative maxBytes', async () => {
      const path = join(dir.path, 'h.log');
      await writeFile(path, 'abc');
      const handle = await open(path, 'r');
      try {
        expect((await computeFingerprint(handle, 2)).fingerprint).toBe(
          hashHex(Buffer.from('ab')),
        );
        await expect(computeFingerprint(handle, -1)).rejects.toThrow(
          /maxBytes/,
        );
      } finally {
        await handle.close();
      }
    });
  });

  describe('computeOffsetMarker', () => {
    test.prop(
      [
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.nat(400),
        fc.integer({ min: 1, max: 100 }),
      ],
      { numRuns: 40 },
    )(
      'should hash exactly the bytes before the offset',
      async (bytes, rawOffset, markerBytes) => {
        const content = Buffer.from(bytes);
        const offset = Math.min(rawOffset, content.length);
        const marker = await withFile(content, (fd) =>
          computeOffsetMarker(fd, offset, markerBytes),
        );
        const expected =
          offset === 0
            ? ''
            : hashHex(
                content.subarray(Math.max(0, offset - markerBytes), offset),
              );
        expect(marker).toBe(expected);
      },
    );

    it('should return an empty marker beyond the end of the file', async () => {
      expect(await withFile('abc', (fd) => computeOffsetMarker(fd, 10))).toBe(
        '',
      );
    });
  });

  describe('observeFile', () => {
    it('should report identity, the fingerprint over the saved length and the saved marker', async () => {
      const path = join(dir.path, 'o.log');
      await writeFile(path, 'line one\n');
      const handle = await open(path, 'r+');
      try {
        const first = await observeFile(handle, path);
        const saved = {
          kind: 'file' as const,
          id: fileSourceId(first.dev, first.ino),
          path,
          dev: first.dev,
          ino: first.ino,
          fingerprint: first.fingerprint,
          fingerprintBytes: first.fingerprintBytes,
          offset: 9,
          offsetMarker: await computeOffsetMarker(handle, 9),
          size: 9,
          mtimeMs: first.mtimeMs,
          lastReadAtMs: 0,
          logCount: 1,
          bytesRead: 9,
          status: 'active' as const,
          updatedAtMs: 0,
        };
        await handle.write('line two\n', 9);
        const again = await observeFile(handle, path, saved);
        expect(again.size).toBe(18);
        expect(again.fingerprintBytes).toBe(18);
        expect(again.fingerprintAtSavedBytes).toBe(saved.fingerprint);
        expect(again.markerAtSavedOffset).toBe(saved.offsetMarker);
      } finally {
        await handle.close();
      }
    });
  });
});
