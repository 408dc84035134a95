// Segment file header and naming.
import { createHmac } from 'node:crypto';
import { crc32c } from './crc32c.js';
import { readU64, writeU64 } from './frame.js';

export const SEGMENT_MAGIC = Buffer.from('LCBUFSEG', 'latin1');
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 64;
export const SEGMENT_FLAG_ENCRYPTED = 0x1;

const SEGMENT_RE = /^seg-(\d{16})\.log$/;

export function segmentFileName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, '0')}.log`;
}

export function indexFileName(segmentName: string): string {
  return segmentName.replace(/\.log$/, '.idx');
}

/** First seq encoded in a segment file name, or undefined for other files. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/** 16-byte key check stored in headers so a wrong key fails at open. */
export function keyCheck(key: Buffer | undefined): Buffer {
  if (key === undefined) return Buffer.alloc(16);
  return createHmac('sha256', key)
    .update('lc-buffer-key-check-v1')
    .digest()
    .subarray(0, 16);
}

export interface SegmentHeader {
  version: number;
  encrypted: boolean;
  firstSeq: number;
  createdAtMs: number;
  keyCheck: Buffer;
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(buf, 0);
  buf.writeUInt16LE(h.version, 8);
  buf.writeUInt16LE(h.encrypted ? SEGMENT_FLAG_ENCRYPTED : 0, 10);
  writeU64(buf, h.firstSeq, 16);
  writeU64(buf, h.createdAtMs, 24);
  h.keyCheck.copy(buf, 32, 0, 16);
  buf.writeUInt32LE(crc32c(buf, 0, 48), 48);
  return buf;
}

/** Parse a header; undefined when it is damaged or not a segment. */
export function decodeSegmentHeader(buf: Buffer): SegmentHeader | undefined {
  if (buf.length < SEGMENT_HEADER_BYTES) return undefined;
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) return undefined;
  if (crc32c(buf, 0, 48) !== buf.readUInt32LE(48)) return undefined;
  return {
    version: buf.readUInt16LE(8),
    encrypted: (buf.readUInt16LE(10) & SEGMENT_FLAG_ENCRYPTED) !== 0,
    firstSeq: readU64(buf, 16),
    createdAtMs: readU64(buf, 24),
    keyCheck: Buffer.from(buf.subarray(32, 48)),
  };
}
