import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** How a read of a gzip file ended. */
export type GzipReadOutcome =
  | { readonly kind: 'end' }
  /** `onChunk` asked to stop. */
  | { readonly kind: 'stopped' }
  | {
      readonly kind: 'damaged';
      /** `truncated`: the stream ends early; `corrupt`: bad data (or trailing garbage). */
      readonly reason: 'truncated' | 'corrupt';
      /** Compressed bytes consumed before the failing read, about where the damage is. */
      readonly compressedOffset: number;
      readonly message: string;
    };

/** Options of {@link readGzipFile}. */
export interface GzipReadOptions {
  /**
   * zlib output chunk size, bytes. zlib drops the output of the call that
   * fails, so a small one salvages more before damage (and costs more).
   * @default 16_384
   */
  readonly chunkSize?: number;
}

/**
 * Stream-decompress a gzip file (concatenated members too), skipping the
 * first `skipBytes` decompressed bytes (already read), handing the rest to
 * `onChunk` in order. `onChunk` resolves `false` to stop. Memory stays at
 * one chunk whatever the file size. Damage is an outcome, not a throw;
 * a file that cannot be opened throws.
 */
export async function readGzipFile(
  path: string,
  skipBytes: number,
  onChunk: (chunk: Buffer) => Promise<boolean>,
  options: GzipReadOptions = {},
): Promise<GzipReadOutcome> {
  const gunzip = createGunzip(
    options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize },
  );
  const input = createReadStream(path, { highWaterMark: 16_384 });
  await new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  let skipped = 0;
  try {
    for await (const raw of gunzip) {
      let chunk = raw as Buffer;
      if (skipped < skipBytes) {
        const drop = Math.min(skipBytes - skipped, chunk.length);
        skipped += drop;
        chunk = chunk.subarray(drop);
        if (chunk.length === 0) continue;
      }
      if (!(await onChunk(chunk))) return { kind: 'stopped' };
    }
    return { kind: 'end' };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (!e.code?.startsWith('Z_')) throw error;
    return {
      kind: 'damaged',
      reason: e.code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt',
      compressedOffset: gunzip.bytesWritten,
      message: e.message,
    };
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

/**
 * The first `maxBytes` decompressed bytes of a gzip file (fewer when it is
 * shorter, truncated or damaged before). Throws when it cannot be opened.
 */
export async function readGzipHead(
  path: string,
  maxBytes: number,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  await readGzipFile(path, 0, (chunk) => {
    parts.push(chunk);
    n += chunk.length;
    return Promise.resolve(n < maxBytes);
  });
  return Buffer.concat(parts).subarray(0, maxBytes);
}

/**
 * The `tailBytes` decompressed bytes just before `offset` (fewer when
 * `offset` is smaller), or `undefined` when the file holds fewer than
 * `offset` bytes. Decompresses up to `offset`.
 */
export async function readGzipBefore(
  path: string,
  offset: number,
  tailBytes: number,
): Promise<Buffer | undefined> {
  const from = Math.max(0, offset - tailBytes);
  const parts: Buffer[] = [];
  let n = 0;
  await readGzipFile(path, from, (chunk) => {
    parts.push(chunk);
    n += chunk.length;
    return Promise.resolve(n < offset - from);
  });
  return n < offset - from
    ? undefined
    : Buffer.concat(parts).subarray(0, offset - from);
}
