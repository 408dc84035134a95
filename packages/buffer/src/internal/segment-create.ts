// Creating a new active segment file: header first, made durable (with the
// directory entry) before any record goes in, unless fsync is 'never'.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, toBufferError } from './fs-utils.js';
import {
  SEGMENT_HEADER_BYTES,
  SEGMENT_VERSION,
  encodeSegmentHeader,
  segmentFileName,
} from './segment-file.js';
import { newSegmentMeta, type SegmentMeta } from './segment-meta.js';

export interface ActiveSegment {
  meta: SegmentMeta;
  handle: FileHandle;
}

/** Create `seg-<firstSeq>.log`; rejects `LC_ERR_DISK_FULL`/`LC_ERR_BUFFER_IO`, leaving no file. */
export async function createSegmentFile(options: {
  directory: string;
  firstSeq: number;
  nowMs: number;
  encrypted: boolean;
  keyCheck: Buffer;
  sync: boolean;
}): Promise<ActiveSegment> {
  const name = segmentFileName(options.firstSeq);
  const path = join(options.directory, name);
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'w+');
    const header = encodeSegmentHeader({
      version: SEGMENT_VERSION,
      encrypted: options.encrypted,
      firstSeq: options.firstSeq,
      createdAtMs: options.nowMs,
      keyCheck: options.keyCheck,
    });
    await handle.write(header, 0, header.length, 0);
    if (options.sync) {
      await handle.datasync();
      await fsyncDirectory(options.directory);
    }
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw toBufferError(error, 'disk log segment create', path);
  }
  const meta = newSegmentMeta(
    name,
    options.firstSeq,
    SEGMENT_HEADER_BYTES,
    options.nowMs,
    options.encrypted,
  );
  return { meta, handle };
}
