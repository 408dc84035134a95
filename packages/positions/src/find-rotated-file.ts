import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FilePosition } from '@lc/core';
import { computeFingerprint } from './file-identity.js';

/**
 * Find where a saved file identity lives now: the entry of `directory`
 * (not recursive) with the saved device and inode whose head still hashes
 * to the saved fingerprint (so a recycled inode is not mistaken for it).
 * Used after a rename rotation to finish the old file from its committed
 * offset. Returns the saved path itself when the identity never moved, and
 * `undefined` when it is gone (deleted, compressed, or moved elsewhere).
 */
export async function findRotatedFile(
  saved: FilePosition,
  directory: string,
): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const path = join(directory, name);
    let s;
    try {
      s = await stat(path, { bigint: true });
    } catch {
      continue; // vanished while scanning
    }
    if (!s.isFile()) continue;
    if (s.dev.toString() !== saved.dev || s.ino.toString() !== saved.ino) {
      continue;
    }
    if (saved.fingerprint === '') return path;
    try {
      const handle = await open(path, 'r');
      try {
        const head = await computeFingerprint(handle, saved.fingerprintBytes);
        if (
          head.fingerprintBytes === saved.fingerprintBytes &&
          head.fingerprint === saved.fingerprint
        ) {
          return path;
        }
      } finally {
        await handle.close();
      }
    } catch {
      continue;
    }
  }
  return undefined;
}
