import { fstat } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import type { FilePosition } from '@lc/core';
import { LcError } from '@lc/core';
import { hashHex } from './internal/hash.js';
import { readRange } from './internal/read-range.js';
import type { FileRef } from './internal/read-range.js';

/** A numeric file descriptor or a `fs.promises.FileHandle`. */
export type { FileRef } from './internal/read-range.js';

/** Default number of head bytes a fingerprint covers. */
export const DEFAULT_FINGERPRINT_BYTES = 1024;
/** Default number of bytes before the offset an offset marker covers. */
export const DEFAULT_MARKER_BYTES = 64;

/**
 * The source id of a file identity: `${dev}:${ino}`. The id survives a
 * rename rotation (the path changes, the identity does not), so
 * acknowledgements and positions follow the data, not the name.
 *
 * @param dev device number, decimal string (64-bit safe)
 * @param ino inode number, decimal string (64-bit safe)
 */
export function fileSourceId(dev: string, ino: string): string {
  return `${dev}:${ino}`;
}

/** Result of {@link computeFingerprint}. */
export interface FileFingerprint {
  /** Hex hash of the first `fingerprintBytes` bytes. */
  readonly fingerprint: string;
  /** How many bytes were hashed: `min(file size, maxBytes)`. */
  readonly fingerprintBytes: number;
}

/**
 * Hash the head of a file: the first `min(size, maxBytes)` bytes. While the
 * file is shorter than `maxBytes`, the fingerprint covers fewer bytes and
 * grows with the file; two fingerprints are only comparable when they cover
 * the same number of bytes (pass the saved `fingerprintBytes` as `maxBytes`
 * to compare with a saved one). An empty file has `fingerprintBytes` 0.
 *
 * @param file open descriptor or handle; not closed, not moved (positional read)
 * @param maxBytes bytes to hash at most. @default 1024
 */
export async function computeFingerprint(
  file: FileRef,
  maxBytes: number = DEFAULT_FINGERPRINT_BYTES,
): Promise<FileFingerprint> {
  assertNonNegativeInteger('maxBytes', maxBytes);
  const head = await readRange(file, 0, maxBytes);
  return { fingerprint: hashHex(head), fingerprintBytes: head.length };
}

/**
 * The fingerprint of head bytes already in memory: the same digest as
 * {@link computeFingerprint} over a file whose first bytes are `head`. Lets
 * a reader keep exactly the bytes it hashed, to check later reads against.
 */
export function fingerprintOf(head: Uint8Array): FileFingerprint {
  return { fingerprint: hashHex(head), fingerprintBytes: head.length };
}

/**
 * Hash the `markerBytes` bytes just before `offset` (fewer when `offset` is
 * smaller). Stored with a committed offset, it proves on resume that the
 * bytes before the offset are still the ones that were delivered: a
 * mismatch means the file was truncated and rewritten (copytruncate).
 * Returns `''` for offset 0, and `''` when the file is now shorter than
 * `offset` (nothing to compare).
 *
 * @param offset byte offset (the committed position)
 * @param markerBytes bytes hashed at most. @default 64
 */
export async function computeOffsetMarker(
  file: FileRef,
  offset: number,
  markerBytes: number = DEFAULT_MARKER_BYTES,
): Promise<string> {
  assertNonNegativeInteger('offset', offset);
  assertNonNegativeInteger('markerBytes', markerBytes);
  if (offset === 0) return '';
  const start = Math.max(0, offset - markerBytes);
  const bytes = await readRange(file, start, offset - start);
  if (bytes.length !== offset - start) return '';
  return hashHex(bytes);
}

/** What a monitor observed about a file it is about to read. */
export interface ObservedFile {
  readonly path: string;
  /** Device number, decimal string. */
  readonly dev: string;
  /** Inode number, decimal string. */
  readonly ino: string;
  /** Size in bytes. */
  readonly size: number;
  /** mtime, ms since the epoch. */
  readonly mtimeMs: number;
  /** Current head fingerprint (see {@link computeFingerprint}). */
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
  /**
   * Fingerprint over exactly the saved position's `fingerprintBytes`, when
   * the current one covers a different length (the file grew since). Lets
   * {@link decideFileResume} compare heads; {@link observeFile} fills it.
   */
  readonly fingerprintAtSavedBytes?: string;
  /** {@link computeOffsetMarker} at the saved offset, when there is one. */
  readonly markerAtSavedOffset?: string;
}

/**
 * Stat and hash an open file for {@link decideFileResume}: identity, size,
 * current fingerprint, the fingerprint over the saved length and the marker
 * at the saved offset (when `saved` is given and is the same identity).
 *
 * @param maxFingerprintBytes @default 1024
 */
export async function observeFile(
  file: FileRef,
  path: string,
  saved?: FilePosition,
  maxFingerprintBytes: number = DEFAULT_FINGERPRINT_BYTES,
): Promise<ObservedFile> {
  const stats = await statRef(file);
  const dev = stats.dev.toString();
  const ino = stats.ino.toString();
  const size = Number(stats.size);
  const head = await computeFingerprint(file, maxFingerprintBytes);
  let fingerprintAtSavedBytes: string | undefined;
  let markerAtSavedOffset: string | undefined;
  if (saved !== undefined && saved.dev === dev && saved.ino === ino) {
    if (saved.fingerprintBytes !== head.fingerprintBytes) {
      const atSaved = await computeFingerprint(file, saved.fingerprintBytes);
      if (atSaved.fingerprintBytes === saved.fingerprintBytes)
        fingerprintAtSavedBytes = atSaved.fingerprint;
    }
    if (saved.offset > 0 && saved.offset <= size) {
      markerAtSavedOffset = await computeOffsetMarker(file, saved.offset);
    }
  }
  return {
    path,
    dev,
    ino,
    size,
    mtimeMs: Number(stats.mtimeMs),
    ...head,
    ...(fingerprintAtSavedBytes === undefined
      ? {}
      : { fingerprintAtSavedBytes }),
    ...(markerAtSavedOffset === undefined ? {} : { markerAtSavedOffset }),
  };
}

/** `fstat` with 64-bit safe numbers, for a descriptor or a handle. */
export function statRef(file: FileRef): Promise<BigIntStats> {
  if (typeof file !== 'number') return file.stat({ bigint: true });
  return new Promise((resolve, reject) => {
    fstat(file, { bigint: true }, (error, stats) => {
      if (error) reject(error);
      else resolve(stats);
    });
  });
}

function assertNonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LcError({
      code: 'LC_ERR_INVALID_INPUT',
      message: `${name} must be a non-negative integer, got ${String(value)}`,
      details: { [name]: value },
    });
  }
}
