import { open } from 'node:fs/promises';
import { computeFingerprint } from '@lc/positions';
import { sameHead } from './gzip-origin.js';
import { readGzipHead } from './gzip-reader.js';

/** A head to recognise content by: a fingerprint over its first bytes. */
export interface KnownHead {
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
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
