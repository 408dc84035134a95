import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { computeFingerprint, fingerprintOf } from '@lc/positions';
import type { FileFingerprint } from '@lc/positions';
import { readGzipHead } from './gzip-reader.js';
import type { TailedFile } from './tailed-file.js';

/** Bytes of a file's head hashed into its fingerprint. */
export const FINGERPRINT_BYTES = 1024;

/** A head to recognise content by: a fingerprint over its first bytes. */
export interface KnownHead {
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
}

/** `head` starts with the bytes `known` fingerprinted. */
export function sameHead(head: Buffer, known: KnownHead): boolean {
  return (
    known.fingerprintBytes <= head.length &&
    fingerprintOf(head.subarray(0, known.fingerprintBytes)).fingerprint ===
      known.fingerprint
  );
}

/**
 * Read and fingerprint the head of `f` through `handle`, and have the
 * reads that cover it check they find the same bytes: a copytruncate
 * between this and the first read would otherwise go unseen, and the new
 * content would be read under the old content's fingerprint (its copy
 * never finished).
 */
export async function takeHead(
  f: TailedFile,
  handle: FileHandle,
): Promise<FileFingerprint> {
  const head = Buffer.alloc(FINGERPRINT_BYTES);
  let n = 0;
  while (n < head.length) {
    const { bytesRead } = await handle.read(head, n, head.length - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  f.expectHead(head.subarray(0, n));
  return fingerprintOf(head.subarray(0, n));
}

/**
 * A compressed file, by its name. A `.gz.tmp` (the kubelet compresses
 * through one) or a `.gz.1` is not: it is still being written, or is not
 * gzip at all.
 */
export function isCompressedName(name: string): boolean {
  return name.endsWith('.gz');
}

/**
 * True when the content of the file at `path` starts with the bytes
 * `known` was taken over. A `.gz` is known by what it holds: its
 * decompressed head is compared (the fingerprint of the file it was
 * compressed from), any other file by its bytes. False when it cannot be
 * read, or is shorter than `known`'s head.
 */
export async function headMatches(
  path: string,
  known: KnownHead,
): Promise<boolean> {
  try {
    if (isCompressedName(path)) {
      const head = await readGzipHead(path, known.fingerprintBytes);
      return head.length === known.fingerprintBytes && sameHead(head, known);
    }
    const h = await open(path, 'r');
    try {
      const head = await computeFingerprint(h, known.fingerprintBytes);
      return (
        head.fingerprintBytes === known.fingerprintBytes &&
        head.fingerprint === known.fingerprint
      );
    } finally {
      await h.close();
    }
  } catch {
    return false;
  }
}
