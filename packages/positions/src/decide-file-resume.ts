import type { FilePosition } from '@lc/core';
import type { ObservedFile } from './file-identity.js';

/** Why a file is resumed where it is. Each is a distinct, counted event. */
export type ResumeReason =
  | 'same-file'
  | 'new-file'
  | 'rotated'
  | 'truncated'
  | 'copytruncate'
  | 'inode-reused';

/** What to do with a file on (re)start. */
export interface ResumeDecision {
  /** `continue` at the saved offset, or `start` reading at `offset`. */
  readonly action: 'continue' | 'start';
  /** Byte offset to read from. */
  readonly offset: number;
  readonly reason: ResumeReason;
}

/**
 * Decide where to resume reading a file, from its saved position (looked up
 * by identity or by path) and what is on disk now. Pure; never skips data:
 * every doubt resolves to reading from 0 (a bounded duplicate) rather than
 * jumping past bytes.
 *
 * - no saved position → `start` 0, `new-file`
 * - saved identity (dev+ino) differs from the file now at the path →
 *   `start` 0, `rotated` (finish the old identity with
 *   {@link findRotatedFile}, read the new one from 0)
 * - size below the saved offset → `start` 0, `truncated`
 * - head fingerprint differs, or the file is now shorter than its saved
 *   head → `start` 0, `inode-reused` / `copytruncate`
 * - bytes before the saved offset differ (marker mismatch) → `start` 0,
 *   `copytruncate`
 * - otherwise `continue` at the saved offset, `same-file`
 *
 * Markers and fingerprints that were not available (empty strings,
 * undefined) are not compared.
 */
export function decideFileResume(
  saved: FilePosition | undefined,
  observed: ObservedFile,
): ResumeDecision {
  if (saved === undefined) return start('new-file');
  if (saved.dev !== observed.dev || saved.ino !== observed.ino) {
    return start('rotated');
  }
  if (observed.size < saved.offset) return start('truncated');
  if (saved.fingerprint !== '') {
    if (observed.size < saved.fingerprintBytes) {
      // Shorter than the head we once hashed, yet not below the offset: the
      // file was emptied and written again.
      return start('copytruncate');
    }
    const head =
      observed.fingerprintBytes === saved.fingerprintBytes
        ? observed.fingerprint
        : observed.fingerprintAtSavedBytes;
    if (head !== undefined && head !== saved.fingerprint) {
      return start('inode-reused');
    }
  }
  if (
    saved.offset > 0 &&
    saved.offsetMarker !== '' &&
    observed.markerAtSavedOffset !== undefined &&
    observed.markerAtSavedOffset !== '' &&
    observed.markerAtSavedOffset !== saved.offsetMarker
  ) {
    return start('copytruncate');
  }
  return { action: 'continue', offset: saved.offset, reason: 'same-file' };
}

function start(reason: ResumeReason): ResumeDecision {
  return { action: 'start', offset: 0, reason };
}
