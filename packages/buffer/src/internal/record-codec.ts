// Turns entries into frames and frames back into entries.
import { LcError } from '@lc/core';
import { decodeBlockPayload, encodeBlockPayload } from './block-codec.js';
import {
  BLOCK_PREFIX_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_TYPE_BLOCK,
  FRAME_TYPE_RECORD,
  blockFrameHeader,
  readU64,
  recordFrameBytes,
  writeRecordFrame,
  writeU64,
} from './frame.js';
import { scanSegment, type ScannedFrame } from './segment-scanner.js';

/** One record read back from the log. */
export interface DecodedEntry {
  seq: number;
  timestampMs: number;
  source?: string;
  payload: Buffer;
}

/** A record ready to be framed. */
export interface PendingRecord {
  seq: number;
  timestampMs: number;
  source: Buffer | undefined;
  /** The source as given (saves decoding it again for the index). */
  sourceText?: string | undefined;
  payload: Uint8Array;
  /** Size of its plain record frame. */
  frameBytes: number;
}

export function framedSize(
  r: Pick<PendingRecord, 'payload' | 'source'>,
): number {
  return recordFrameBytes(r.payload.length, r.source?.length ?? 0);
}

/** Concatenated plain record frames. */
export function encodeRecordFrames(records: readonly PendingRecord[]): Buffer {
  let total = 0;
  for (const r of records) total += r.frameBytes;
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (const r of records)
    p = writeRecordFrame(out, p, r.seq, r.timestampMs, r.source, r.payload);
  return out;
}

function blockAad(
  flags: number,
  count: number,
  firstSeq: number,
  createdAtMs: number,
  prefix: Buffer,
): Buffer {
  const aad = Buffer.allocUnsafe(20 + prefix.length);
  aad[0] = FRAME_TYPE_BLOCK;
  aad[1] = flags;
  aad.writeUInt16LE(count, 2);
  writeU64(aad, firstSeq, 4);
  writeU64(aad, createdAtMs, 12);
  prefix.copy(aad, 20);
  return aad;
}

/** One block frame holding `records` (≤ 65535 of them). */
export async function encodeBlockFrame(
  records: readonly PendingRecord[],
  flags: number,
  key: Buffer | undefined,
  createdAtMs: number,
): Promise<Buffer> {
  const first = records[0] as PendingRecord;
  const last = records[records.length - 1] as PendingRecord;
  let minTs = first.timestampMs;
  let maxTs = first.timestampMs;
  for (const r of records) {
    if (r.timestampMs < minTs) minTs = r.timestampMs;
    if (r.timestampMs > maxTs) maxTs = r.timestampMs;
  }
  const prefix = Buffer.allocUnsafe(BLOCK_PREFIX_BYTES);
  writeU64(prefix, last.seq, 0);
  writeU64(prefix, minTs, 8);
  writeU64(prefix, maxTs, 16);
  const aad = blockAad(flags, records.length, first.seq, createdAtMs, prefix);
  const tail = await encodeBlockPayload(
    encodeRecordFrames(records),
    flags,
    key,
    aad,
  );
  const body = Buffer.concat([prefix, tail]);
  return Buffer.concat([
    blockFrameHeader(flags, records.length, first.seq, createdAtMs, body),
    body,
  ]);
}

/** Seq/time range a frame covers, without decoding its body. */
export function frameRange(f: ScannedFrame): {
  firstSeq: number;
  lastSeq: number;
  minTs: number;
  maxTs: number;
} {
  const h = f.header;
  if (h.type === FRAME_TYPE_RECORD) {
    return {
      firstSeq: h.seq,
      lastSeq: h.seq,
      minTs: h.timestampMs,
      maxTs: h.timestampMs,
    };
  }
  const b = FRAME_HEADER_BYTES;
  return {
    firstSeq: h.seq,
    lastSeq: readU64(f.frame, b),
    minTs: readU64(f.frame, b + 8),
    maxTs: readU64(f.frame, b + 16),
  };
}

function decodeRecord(frame: Buffer, copy: boolean): DecodedEntry {
  const sourceBytes = frame.readUInt16LE(14);
  const start = FRAME_HEADER_BYTES + sourceBytes;
  const payload = frame.subarray(start);
  const entry: DecodedEntry = {
    seq: readU64(frame, 16),
    timestampMs: readU64(frame, 24),
    payload: copy ? Buffer.from(payload) : payload,
  };
  if (sourceBytes > 0)
    entry.source = frame.toString('utf8', FRAME_HEADER_BYTES, start);
  return entry;
}

/**
 * Entries in a validated frame. Throws `LcError` (`LC_ERR_DECRYPT`,
 * `LC_ERR_BUFFER_CORRUPT`) when a block cannot be decoded.
 */
export function decodeFrame(
  f: ScannedFrame,
  key: Buffer | undefined,
): DecodedEntry[] {
  const h = f.header;
  if (h.type === FRAME_TYPE_RECORD) return [decodeRecord(f.frame, true)];
  const prefix = f.frame.subarray(
    FRAME_HEADER_BYTES,
    FRAME_HEADER_BYTES + BLOCK_PREFIX_BYTES,
  );
  const aad = blockAad(h.flags, h.aux, h.seq, h.timestampMs, prefix);
  const plain = decodeBlockPayload(
    f.frame.subarray(FRAME_HEADER_BYTES + BLOCK_PREFIX_BYTES),
    h.flags,
    key,
    aad,
  );
  const out: DecodedEntry[] = [];
  // Inner frames are plain records held in memory; reuse the scanner's
  // validation by walking them directly.
  let p = 0;
  while (p < plain.length) {
    if (p + FRAME_HEADER_BYTES > plain.length) break;
    const body = plain.readUInt32LE(p + 4);
    const end = p + FRAME_HEADER_BYTES + body;
    if (end > plain.length) break;
    out.push(decodeRecord(plain.subarray(p, end), false));
    p = end;
  }
  if (out.length !== h.aux) {
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `buffer block holds ${out.length} records, header says ${h.aux}`,
    });
  }
  return out;
}

export { scanSegment };
