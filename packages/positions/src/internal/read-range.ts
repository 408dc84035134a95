import { read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** A numeric file descriptor or a promise-API file handle. */
export type FileRef = number | FileHandle;

function readFd(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, offset, length, position, (error, bytesRead) => {
      if (error) reject(error);
      else resolve(bytesRead);
    });
  });
}

/**
 * Read up to `length` bytes starting at `position`, looping over short
 * reads. Returns fewer bytes only at end of file.
 */
export async function readRange(
  file: FileRef,
  position: number,
  length: number,
): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const n =
      typeof file === 'number'
        ? await readFd(file, buffer, filled, length - filled, position + filled)
        : (await file.read(buffer, filled, length - filled, position + filled))
            .bytesRead;
    if (n === 0) break;
    filled += n;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}
