import { open } from 'node:fs/promises';
import { LcError } from '@lc/core';

/** fsync a directory so renames/creates/unlinks in it are durable. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** Map a Node fs error to an LcError with a buffer code. */
export function toBufferError(
  error: unknown,
  what: string,
  path?: string,
): LcError {
  if (LcError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const full = code !== undefined && DISK_FULL_CODES.has(code);
  return new LcError({
    code: full ? 'LC_ERR_DISK_FULL' : 'LC_ERR_BUFFER_IO',
    message: `${what} failed${path === undefined ? '' : ` for ${path}`}: ${
      error instanceof Error ? error.message : String(error)
    }`,
    cause: error,
    details: { path, errno: code },
  });
}
