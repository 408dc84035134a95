// Moves or copies damaged bytes out of the way so they can be inspected,
// and so healing never destroys evidence.
import {
  mkdir,
  open,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';

export const QUARANTINE_DIR = 'quarantine';
/** Damaged ranges larger than this are only partly copied. */
const MAX_COPY_BYTES = 16 * 1024 * 1024;

/**
 * Copy `[from, to)` of a segment to `quarantine/`. Never throws: when the
 * copy is impossible (disk full), the range is still skipped, just not kept.
 */
export async function quarantineRange(
  directory: string,
  segmentName: string,
  handle: FileHandle,
  from: number,
  to: number,
  reason: string,
): Promise<{ path: string; bytes: number }> {
  try {
    return await copyRange(directory, segmentName, handle, from, to, reason);
  } catch (error) {
    return { path: `(not kept: ${(error as Error).message})`, bytes: 0 };
  }
}

async function copyRange(
  directory: string,
  segmentName: string,
  handle: FileHandle,
  from: number,
  to: number,
  reason: string,
): Promise<{ path: string; bytes: number }> {
  const dir = join(directory, QUARANTINE_DIR);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${segmentName}.${from}-${to}.${reason}.bad`);
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) return { path, bytes: 0 };
  const len = Math.min(to - from, MAX_COPY_BYTES);
  const buf = Buffer.alloc(len);
  const { bytesRead } = await handle.read(buf, 0, len, from);
  const out = await open(path, 'w');
  try {
    await out.write(buf, 0, bytesRead, 0);
  } finally {
    await out.close();
  }
  return { path, bytes: bytesRead };
}

/** Move a whole damaged file to `quarantine/` (or delete it if it cannot move). */
export async function quarantineFile(
  directory: string,
  fileName: string,
  reason: string,
): Promise<{ path: string; bytes: number }> {
  try {
    return await moveFile(directory, fileName, reason);
  } catch (error) {
    await unlink(join(directory, fileName)).catch(() => undefined);
    return { path: `(deleted: ${(error as Error).message})`, bytes: 0 };
  }
}

async function moveFile(
  directory: string,
  fileName: string,
  reason: string,
): Promise<{ path: string; bytes: number }> {
  const dir = join(directory, QUARANTINE_DIR);
  await mkdir(dir, { recursive: true });
  const src = join(directory, fileName);
  const bytes = await stat(src).then(
    (s) => s.size,
    () => 0,
  );
  const path = join(dir, `${fileName}.${Date.now()}.${reason}.bad`);
  await rename(src, path);
  return { path, bytes };
}
