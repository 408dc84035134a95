// Binary framing of records and blocks inside a segment. See
// docs/buffer-format.md for the byte layout; keep the two in sync.
import { crc32c } from './crc32c.js';

/** "LCF1" little-endian: the start of every frame, used to resync. */
export const FRAME_MAGIC = 0x3146434c;
export const FRAME_MAGIC_BYTES = Buffer.from('LCF1', 'latin1');
/** Fixed frame header size in bytes. */
export const FRAME_HEADER_BYTES = 32;
/** Block body prefix: lastSeq, minTs, maxTs (3 × u64). */
export const BLOCK_PREFIX_BYTES = 24;

export const FRAME_TYPE_RECORD = 1;
export const FRAME_TYPE_BLOCK = 2;

/** Block flag bits 0-3: compression codec id. */
export const CODEC_NONE = 0;
export const CODEC_GZIP = 1;
/** Reserved for when the runtime has zstd (Node ≥ 22.15). */
export const CODEC_ZSTD = 2;
export const CODEC_MASK = 0x0f;
/** Block flag bit 4: body is AES-256-GCM encrypted. */
export const FLAG_ENCRYPTED = 0x10;

const TWO_32 = 0x1_0000_0000;

export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE((value % TWO_32) >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32) >>> 0, offset + 4);
}

export function readU64(buf: Uint8Array, offset: number): number {
  const b = buf as Buffer;
  return b.readUInt32LE(offset) + b.readUInt32LE(offset + 4) * TWO_32;
}

/** A parsed frame header. */
export interface FrameHeader {
  type: number;
  flags: number;
  /** Record: source length. Block: record count. */
  aux: number;
  /** Record: its seq. Block: first seq. */
  seq: number;
  /** Record: its timestamp. Block: creation time. */
  timestampMs: number;
  /** Bytes following the 32-byte header. */
  bodyBytes: number;
}

/** Size of the record frame for a payload and source. */
export function recordFrameBytes(
  payloadBytes: number,
  sourceBytes: number,
): number {
  return FRAME_HEADER_BYTES + sourceBytes + payloadBytes;
}

/**
 * Write a record frame into `out` at `offset`; returns the offset after it.
 * `source` is already UTF-8 encoded (≤ 65535 bytes).
 */
export function writeRecordFrame(
  out: Buffer,
  offset: number,
  seq: number,
  timestampMs: number,
  source: Buffer | undefined,
  payload: Uint8Array,
): number {
  const sourceBytes = source === undefined ? 0 : source.length;
  const bodyBytes = sourceBytes + payload.length;
  out.writeUInt32LE(FRAME_MAGIC, offset);
  out.writeUInt32LE(bodyBytes, offset + 4);
  out[offset + 12] = FRAME_TYPE_RECORD;
  out[offset + 13] = 0;
  out.writeUInt16LE(sourceBytes, offset + 14);
  writeU64(out, seq, offset + 16);
  writeU64(out, timestampMs, offset + 24);
  let p = offset + FRAME_HEADER_BYTES;
  if (source !== undefined) {
    source.copy(out, p);
    p += sourceBytes;
  }
  out.set(payload, p);
  p += payload.length;
  out.writeUInt32LE(crc32c(out, offset + 12, p), offset + 8);
  return p;
}

/** Build a block frame header (the body is written after it). */
export function blockFrameHeader(
  flags: number,
  count: number,
  firstSeq: number,
  createdAtMs: number,
  body: Buffer,
): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(FRAME_MAGIC, 0);
  header.writeUInt32LE(body.length, 4);
  header[12] = FRAME_TYPE_BLOCK;
  header[13] = flags;
  header.writeUInt16LE(count, 14);
  writeU64(header, firstSeq, 16);
  writeU64(header, createdAtMs, 24);
  const crc = crc32c(
    body,
    0,
    body.length,
    crc32c(header, 12, FRAME_HEADER_BYTES),
  );
  header.writeUInt32LE(crc, 8);
  return header;
}

/**
 * Parse and sanity-check the header at `offset` (caller guarantees 32
 * bytes). Returns undefined when the magic or type is wrong.
 */
export function parseFrameHeader(
  buf: Buffer,
  offset: number,
): FrameHeader | undefined {
  if (buf.readUInt32LE(offset) !== FRAME_MAGIC) return undefined;
  const type = buf[offset + 12] as number;
  if (type !== FRAME_TYPE_RECORD && type !== FRAME_TYPE_BLOCK) return undefined;
  return {
    type,
    flags: buf[offset + 13] as number,
    aux: buf.readUInt16LE(offset + 14),
    seq: readU64(buf, offset + 16),
    timestampMs: readU64(buf, offset + 24),
    bodyBytes: buf.readUInt32LE(offset + 4),
  };
}

/** True when the frame at `offset` (fully present in `buf`) checks out. */
export function frameCrcOk(
  buf: Buffer,
  offset: number,
  bodyBytes: number,
): boolean {
  const expected = buf.readUInt32LE(offset + 8);
  return (
    crc32c(buf, offset + 12, offset + FRAME_HEADER_BYTES + bodyBytes) ===
    expected
  );
}
