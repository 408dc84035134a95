import type { FilePosition } from '@lc/core';
import { fingerprintOf } from '@lc/positions';
import { basename, dirname } from 'node:path';
import { FINGERPRINT_BYTES, sameHead } from './content-head.js';
import { readGzipBefore } from './gzip-reader.js';

/** Bytes an offset marker covers (the position manager's default). */
const MARKER_BYTES = 64;

/**
 * The saved position of the (uncompressed) file the `.gz` at `path` holds:
 * a file position (not a `.gz`) whose fingerprinted head `head` starts
 * with, in the same directory (anywhere when a full head matched). The
 * one named like it (`app.log.1` for `app.log.1.gz`) first, else the
 * latest updated.
 */
export function findGzipOrigin(
  positions: readonly FilePosition[],
  id: string,
  path: string,
  head: Buffer,
): FilePosition | undefined {
  let best: FilePosition | undefined;
  const want = basename(path).slice(0, -'.gz'.length);
  for (const p of positions) {
    if (p.id === id || p.path.endsWith('.gz') || p.fingerprintBytes === 0)
      continue;
    if (!sameHead(head, p)) continue;
    if (
      dirname(p.path) !== dirname(path) &&
      p.fingerprintBytes < FINGERPRINT_BYTES
    )
      continue;
    const named = basename(p.path) === want;
    const bestNamed = best !== undefined && basename(best.path) === want;
    if (
      best === undefined ||
      (named && !bestNamed) ||
      (named === bestNamed && p.updatedAtMs > best.updatedAtMs)
    )
      best = p;
  }
  return best;
}

/**
 * True when the decompressed bytes of the `.gz` at `path` just before the
 * origin's committed offset hash to its offset marker (or there is none
 * to check). Decompresses up to that offset.
 */
export async function markerMatches(
  path: string,
  origin: FilePosition,
): Promise<boolean> {
  if (origin.offset === 0 || origin.offsetMarker === '') return true;
  const before = await readGzipBefore(path, origin.offset, MARKER_BYTES);
  return (
    before !== undefined &&
    fingerprintOf(before).fingerprint === origin.offsetMarker
  );
}
