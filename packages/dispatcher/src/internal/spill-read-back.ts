import type { DiskLog } from '@lc/buffer';
import type { Cursor, LogRecord } from '@lc/core';
import { chunkLength } from './spill-codec.js';
import type { ConsumedMark } from './spill-consumed.js';
import type { SpillCursor } from './spill-setup.js';
import type { ChunkQueue } from './spill-space.js';

/**
 * The read side of a spill's disk log: the chunk read back and being moved
 * into memory (the read ahead), where the next read starts, and, for a
 * durable spill, how far delivery has acknowledged chunks in the log
 * (`committed`) and the chunk delivered only in part (`consumed.json`).
 */
export class SpillReadBack {
  /** Seq of the next chunk to read. */
  nextSeq = 0;
  /** Durable spills: the chunk delivered only in part and its last delivered record. */
  partial: ConsumedMark | undefined;
  /** Read at open: records of this chunk up to `i` were delivered already. */
  skip: ConsumedMark | undefined;
  private records: LogRecord[] = [];
  private head = 0;
  private seq = 0;
  private atMs = 0;
  /** Durable spills: chunks below this seq are acknowledged in the log. */
  private ackedBelow = 0;

  /** Reads start at `seq` (the oldest chunk left, or the log's next seq). */
  startAt(seq: number): void {
    this.nextSeq = seq;
    this.ackedBelow = seq;
  }

  /** Records of the read-ahead chunk not moved yet. */
  get pending(): number {
    return this.records.length - this.head;
  }

  /** When the read-ahead chunk's records entered the spill. */
  get atMsOfHead(): number {
    return this.atMs;
  }

  /** Chunk `seq` (its records, written at `atMs`) is read back. */
  load(seq: number, records: LogRecord[], atMs: number): void {
    this.nextSeq = seq + 1;
    this.records = records;
    this.head = 0;
    this.seq = seq;
    this.atMs = atMs;
    if (this.skip?.seq === seq) {
      this.head = Math.min(records.length, this.skip.i + 1);
      this.skip = undefined;
    }
  }

  /** Take the next read-ahead record and its cursor (`pending > 0`). */
  take(): { record: LogRecord; cursor: Cursor } {
    const i = this.head;
    const record = this.records[i] as LogRecord;
    this.records[this.head++] = undefined as never;
    const cursor: Cursor = { seq: this.seq, i, n: this.records.length };
    if (this.head >= this.records.length) {
      this.records = [];
      this.head = 0;
    }
    return { record, cursor };
  }

  /** Chunk `seq` was dropped (acknowledged) without being read. */
  dropped(seq: number): void {
    if (this.nextSeq <= seq) this.nextSeq = seq + 1;
    if (this.ackedBelow === seq) this.ackedBelow++;
  }

  /**
   * A read-back record's settlement reached the watermark of the spill's
   * source: every record up to it is delivered, so its chunks are
   * acknowledged in the disk log (not delivered again after a restart).
   */
  committed(log: DiskLog, cursor: Cursor): void {
    const c = cursor as unknown as SpillCursor;
    if (typeof c?.seq !== 'number') return;
    const upTo = c.i === c.n - 1 ? c.seq : c.seq - 1;
    this.partial = c.i === c.n - 1 ? undefined : { seq: c.seq, i: c.i };
    for (; this.ackedBelow <= upTo; this.ackedBelow++) {
      try {
        log.ack(this.ackedBelow);
      } catch {
        // already acknowledged (a dropped or lost chunk)
      }
    }
  }
}

/**
 * What a previous process left in the log, at open. Durable (`chunks`
 * given): each chunk is queued to be delivered, but the part a clean stop
 * recorded as delivered (`consumed`, returned as `skip`); otherwise every
 * chunk is acknowledged (discarded) and only counted.
 */
export async function scanLeftovers(
  log: DiskLog,
  consumed: ConsumedMark | undefined,
  chunks: ChunkQueue | undefined,
): Promise<{
  records: number;
  bytes: number;
  first: number | undefined;
  skip: ConsumedMark | undefined;
}> {
  let records = 0;
  let bytes = 0;
  let first: number | undefined;
  let skip: ConsumedMark | undefined;
  for await (const entry of log.read()) {
    let n = chunkLength(entry.payload);
    if (chunks === undefined) {
      records += n;
      log.ack(entry.seq);
      continue;
    }
    // Delivered in part before a clean stop: that part is skipped.
    if (consumed?.seq === entry.seq) {
      skip = consumed;
      n -= Math.min(n, consumed.i + 1);
    }
    records += n;
    bytes += entry.payload.length;
    first ??= entry.seq;
    chunks.push(entry.seq, n, entry.payload.length, entry.timestampMs);
  }
  return { records, bytes, first, skip };
}
