// Turns one group commit's records into the bytes appended to a segment,
// and accounts for them in the segment's index once written.
import {
  encodeBlockFrame,
  encodeRecordFrames,
  type PendingRecord,
} from './record-codec.js';
import { noteFrame, noteRecords, type SegmentMeta } from './segment-meta.js';

const MAX_BLOCK_PLAIN_BYTES = 1024 * 1024;
const MAX_BLOCK_RECORDS = 65_535;

export interface EncodedWrite {
  buf: Buffer;
  frames: { bytes: number; records: PendingRecord[] }[];
  /** True when the frames are blocks (compression/encryption). */
  blocks: boolean;
}

/** Plain record frames when `flags` is 0, else blocks with those flags. */
export async function encodeWrite(
  records: PendingRecord[],
  flags: number,
  key: Buffer | undefined,
  nowMs: number,
): Promise<EncodedWrite> {
  if (flags === 0) {
    const buf = encodeRecordFrames(records);
    return { buf, frames: [{ bytes: buf.length, records }], blocks: false };
  }
  const frames: EncodedWrite['frames'] = [];
  const bufs: Buffer[] = [];
  let start = 0;
  while (start < records.length) {
    let end = start;
    let plain = 0;
    while (
      end < records.length &&
      end - start < MAX_BLOCK_RECORDS &&
      (end === start || plain <= MAX_BLOCK_PLAIN_BYTES)
    ) {
      plain += (records[end] as PendingRecord).frameBytes;
      end++;
    }
    const part = records.slice(start, end);
    const buf = await encodeBlockFrame(part, flags, key, nowMs);
    bufs.push(buf);
    frames.push({ bytes: buf.length, records: part });
    start = end;
  }
  return {
    buf: bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs),
    frames,
    blocks: true,
  };
}

/** Update `meta` for a write of `w` that landed at file offset `pos`. */
export function noteWrite(
  meta: SegmentMeta,
  pos: number,
  w: EncodedWrite,
): void {
  let off = pos;
  for (const f of w.frames) {
    if (!w.blocks) {
      noteRecords(meta, off, f.records);
    } else {
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (const r of f.records) {
        if (r.timestampMs < minTs) minTs = r.timestampMs;
        if (r.timestampMs > maxTs) maxTs = r.timestampMs;
      }
      const first = f.records[0] as PendingRecord;
      const last = f.records[f.records.length - 1] as PendingRecord;
      noteFrame(
        meta,
        off,
        f.bytes,
        { firstSeq: first.seq, lastSeq: last.seq, minTs, maxTs },
        f.records.length,
        f.records.map((r) => r.sourceText),
      );
    }
    off += f.bytes;
  }
}
