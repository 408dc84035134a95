import { open } from 'node:fs/promises';
import type { FilePosition } from '@lc/core';
import {
  computeOffsetMarker,
  fileSourceId,
  observeFile,
} from '../../src/file-identity.js';

/**
 * The position of a real file as observed now, committed at `offset` (its
 * end by default), with the offset marker of that offset when `withMarker`.
 */
export async function observedFilePosition(
  path: string,
  offset?: number,
  { withMarker = false }: { withMarker?: boolean } = {},
): Promise<FilePosition> {
  const handle = await open(path, 'r');
  try {
    const o = await observeFile(handle, path);
    const at = offset ?? o.size;
    return {
      kind: 'file',
      id: fileSourceId(o.dev, o.ino),
      path,
      dev: o.dev,
      ino: o.ino,
      fingerprint: o.fingerprint,
      fingerprintBytes: o.fingerprintBytes,
      offset: at,
      offsetMarker: withMarker ? await computeOffsetMarker(handle, at) : '',
      size: o.size,
      mtimeMs: o.mtimeMs,
      lastReadAtMs: 0,
      logCount: 0,
      bytesRead: at,
      status: 'active',
      updatedAtMs: 0,
    };
  } finally {
    await handle.close();
  }
}
