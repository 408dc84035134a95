// Streams the frames of one segment file, validating each, and reports
// damaged byte ranges instead of throwing. Memory stays bounded by the
// chunk size (or one frame, when a frame is larger).
import type { FileHandle } from 'node:fs/promises';
import {
  FRAME_HEADER_BYTES,
  FRAME_MAGIC_BYTES,
  frameCrcOk,
  parseFrameHeader,
  type FrameHeader,
} from './frame.js';

const CHUNK_BYTES = 1 << 20;

export interface ScannedFrame {
  kind: 'frame';
  /** File offset of the frame start. */
  offset: number;
  header: FrameHeader;
  /** The whole frame (header + body); a view into a private chunk. */
  frame: Buffer;
}

export interface CorruptRange {
  kind: 'corrupt';
  from: number;
  to: number;
  reason: 'torn-tail' | 'bad-frame';
}

async function readFully(
  handle: FileHandle,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(
      buf,
      offset + done,
      length - done,
      position + done,
    );
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** True when a complete, checksum-valid frame starts at `pos`. */
async function validFrameAt(
  handle: FileHandle,
  pos: number,
  end: number,
): Promise<boolean> {
  if (pos + FRAME_HEADER_BYTES > end) return false;
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  if (
    (await readFully(handle, head, 0, FRAME_HEADER_BYTES, pos)) <
    FRAME_HEADER_BYTES
  )
    return false;
  const h = parseFrameHeader(head, 0);
  if (h === undefined || pos + FRAME_HEADER_BYTES + h.bodyBytes > end)
    return false;
  const whole = Buffer.allocUnsafe(FRAME_HEADER_BYTES + h.bodyBytes);
  const got = await readFully(handle, whole, 0, whole.length, pos);
  return got === whole.length && frameCrcOk(whole, 0, h.bodyBytes);
}

/** Position of the next valid frame at or after `from`, if any. */
export async function findNextValidFrame(
  handle: FileHandle,
  from: number,
  end: number,
): Promise<number | undefined> {
  const window = Buffer.allocUnsafe(CHUNK_BYTES + FRAME_MAGIC_BYTES.length);
  let start = from;
  while (start < end) {
    const len = Math.min(window.length, end - start);
    const got = await readFully(handle, window, 0, len, start);
    const view = window.subarray(0, got);
    let i = view.indexOf(FRAME_MAGIC_BYTES);
    while (i !== -1) {
      if (await validFrameAt(handle, start + i, end)) return start + i;
      i = view.indexOf(FRAME_MAGIC_BYTES, i + 1);
    }
    if (got < window.length) break;
    start += CHUNK_BYTES; // overlap keeps a magic split across windows
  }
  return undefined;
}

/**
 * Yield every frame in [start, end) and every damaged range between them.
 * A damaged range runs up to the next valid frame, or to `end`.
 */
export async function* scanSegment(
  handle: FileHandle,
  start: number,
  end: number,
): AsyncGenerator<ScannedFrame | CorruptRange> {
  let buf = Buffer.alloc(0);
  let bufStart = start;
  let p = 0;

  const ensure = async (n: number): Promise<boolean> => {
    if (buf.length - p >= n) return true;
    const fileOff = bufStart + p;
    const want = Math.min(Math.max(CHUNK_BYTES, n), end - fileOff);
    if (want < n) return false;
    const next = Buffer.allocUnsafe(want);
    const keep = buf.length - p;
    buf.copy(next, 0, p);
    const got = await readFully(
      handle,
      next,
      keep,
      want - keep,
      fileOff + keep,
    );
    buf = next.subarray(0, keep + got);
    bufStart = fileOff;
    p = 0;
    return buf.length >= n;
  };

  for (;;) {
    const fileOff = bufStart + p;
    if (fileOff >= end) return;
    let ok = false;
    let header: FrameHeader | undefined;
    // Fast paths avoid an await per frame while the chunk has the bytes.
    if (
      buf.length - p >= FRAME_HEADER_BYTES ||
      (await ensure(FRAME_HEADER_BYTES))
    ) {
      header = parseFrameHeader(buf, p);
      if (
        header !== undefined &&
        fileOff + FRAME_HEADER_BYTES + header.bodyBytes <= end
      ) {
        const total = FRAME_HEADER_BYTES + header.bodyBytes;
        ok =
          (buf.length - p >= total || (await ensure(total))) &&
          frameCrcOk(buf, p, header.bodyBytes);
      }
    }
    if (ok && header !== undefined) {
      const total = FRAME_HEADER_BYTES + header.bodyBytes;
      yield {
        kind: 'frame',
        offset: fileOff,
        header,
        frame: buf.subarray(p, p + total),
      };
      p += total;
      continue;
    }
    const next = await findNextValidFrame(handle, fileOff + 1, end);
    yield {
      kind: 'corrupt',
      from: fileOff,
      to: next ?? end,
      reason: next === undefined ? 'torn-tail' : 'bad-frame',
    };
    if (next === undefined) return;
    buf = Buffer.alloc(0);
    bufStart = next;
    p = 0;
  }
}
