import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/**
 * Stream-decompress a gzip file, skipping the first `skipBytes`
 * decompressed bytes (already read), handing the rest to `onChunk` in
 * order. `onChunk` resolves `false` to stop early. Memory stays at one
 * chunk whatever the file size.
 */
export async function readGzipFile(
  path: string,
  skipBytes: number,
  onChunk: (chunk: Buffer) => Promise<boolean>,
): Promise<void> {
  const gunzip = createGunzip();
  const input = createReadStream(path);
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
      if (!(await onChunk(chunk))) break;
    }
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
