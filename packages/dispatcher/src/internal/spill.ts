import { statfs } from 'node:fs/promises';
import { createDiskLog } from '@lc/buffer';
import type { DiskLog } from '@lc/buffer';
import { LcError, toLcError } from '@lc/core';
import type { Clock, Cursor, LogRecord, SourceRef } from '@lc/core';
import type { AckItem } from './ack-tracker.js';
import { recordBytes } from './intake-budget.js';
import {
  chunkLength,
  decodeChunk,
  encodeChunk,
  SpillDictionary,
} from './spill-codec.js';
import { readConsumed, saveConsumed } from './spill-consumed.js';
import type { ConsumedMark } from './spill-consumed.js';
import {
  CHUNK_MAX_BYTES,
  CHUNK_MAX_RECORDS,
  MAX_UNWRITTEN_BYTES,
  RETRY_AFTER_MS,
  SPILL_SOURCE_KIND,
} from './spill-setup.js';
import type { SpillCursor, SpillSetup } from './spill-setup.js';
import { chunkSources, ChunkQueue, SpillFreeSpace } from './spill-space.js';

/**
 * The intake's overflow: a FIFO of records that did not fit in memory,
 * kept in an @lc/buffer disk log and moved back into memory, in order, as
 * room frees. Its order is [read ahead] ++ [on disk] ++ [being written] ++
 * [not written yet]; while it holds anything, every new record joins its
 * tail, so no record overtakes a spilled one.
 *
 * Durable (the default): a record is tracked by the ack tracker when it
 * enters, and settled once written, so positions move past it and its
 * source may rotate away; records read back are acknowledged to the disk
 * log only once delivered (their acks come back as `lc-spill` commits, see
 * {@link Spill.committed}); what a previous process left is delivered first.
 * Not durable: spilled records are tracked only once back in memory, so
 * their sources read them again after a crash, and leftovers are discarded.
 */
export class Spill {
  /** Records in the spill. */
  records = 0;
  /** Their estimated bytes. */
  bytes = 0;
  /** Records spilled / moved back to memory since start. */
  spilledTotal = 0;
  admittedTotal = 0;
  /** Records that could not be read back (damaged on disk) since start. */
  lostTotal = 0;
  /** Records deleted to make room since start. */
  droppedTotal = 0;
  /** Records found at open, left by a previous process. */
  recoveredTotal = 0;
  private readonly s: SpillSetup;
  private readonly ref: SourceRef;
  private readonly dict = new SpillDictionary();
  private readonly space: SpillFreeSpace;
  /** Chunks written and not read back yet, oldest first. */
  private readonly chunks = new ChunkQueue();
  private opening: Promise<DiskLog> | undefined;
  private log: DiskLog | undefined;
  private readAhead: LogRecord[] = [];
  private readAheadHead = 0;
  private readAheadSeq = 0;
  /** When the read-ahead chunk's records entered the spill. */
  private readAheadAtMs = 0;
  /** When the oldest unwritten record entered the spill (at most). */
  private unwrittenSinceMs = 0;
  private nextReadSeq = 0;
  /** Durable spills: chunks below this seq are acknowledged in the log. */
  private ackedBelow = 0;
  /**
   * Durable spills: the chunk delivered only in part, and its last record
   * delivered. Written at shutdown (`consumed.json`), so a restart does not
   * send that part again; after a crash it is sent again (at most a chunk).
   */
  private partial: ConsumedMark | undefined;
  /** Read at open: records of this chunk up to `i` are skipped. */
  private skip: ConsumedMark | undefined;
  private retryTimer: ReturnType<Clock['setTimeout']> | undefined;
  private writing: Promise<void> | undefined;
  private dropping: Promise<void> | undefined;
  private unwritten: LogRecord[] = [];
  private unwrittenAcks: AckItem[] = [];
  private unwrittenBytes = 0;
  private failedAtMs = -Infinity;
  private reloading = false;
  private stopped = false;

  constructor(setup: SpillSetup) {
    this.s = setup;
    this.ref = Object.freeze({ kind: SPILL_SOURCE_KIND, id: setup.name });
    this.space = new SpillFreeSpace(
      setup.directory,
      setup.minFreeBytes,
      setup.clock,
      (path) => statfs(path),
    );
  }

  /** Whether a record added now stays within the bounds. */
  hasRoom(): boolean {
    if (this.stopped || this.unwrittenBytes >= MAX_UNWRITTEN_BYTES)
      return false;
    if (this.s.clock.monotonicNow() - this.failedAtMs < RETRY_AFTER_MS)
      return false;
    const full = this.bytes >= this.s.maxBytes || !this.space.above();
    if (!full) return true;
    if (this.s.whenFull !== 'drop_oldest' || this.chunks.length === 0)
      return false;
    this.dropOldest();
    return true;
  }

  /** Records not written to disk yet (held only in memory). */
  get unwrittenRecords(): number {
    return this.unwritten.length;
  }

  /**
   * When the oldest record still in the spill entered it, ms since the
   * epoch (`undefined` when empty): its age is how far behind delivery is.
   */
  oldestAtMs(): number | undefined {
    if (this.readAheadHead < this.readAhead.length) return this.readAheadAtMs;
    const chunk = this.chunks.headAtMs;
    if (chunk !== undefined) return chunk;
    return this.unwritten.length > 0 ? this.unwrittenSinceMs : undefined;
  }

  /** Append `record` at the tail (always taken: the caller checks {@link hasRoom}). */
  add(record: LogRecord): void {
    const bytes = recordBytes(record);
    this.records++;
    this.bytes += bytes;
    this.spilledTotal++;
    if (this.unwritten.length === 0) this.unwrittenSinceMs = this.s.clock.now();
    this.unwritten.push(record);
    if (this.s.durable) this.unwrittenAcks.push(this.s.track(record));
    this.unwrittenBytes += bytes;
    this.s.onSpilled(1, bytes);
    this.write();
  }

  /**
   * A read-back record's settlement reached the watermark of the spill's
   * source: every record up to it is delivered, so its chunks are
   * acknowledged in the disk log (not delivered again after a restart).
   */
  committed(cursor: Cursor): void {
    const c = cursor as unknown as SpillCursor;
    const log = this.log;
    if (log === undefined || typeof c?.seq !== 'number') return;
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

  /** Memory may have room: move records back (soon, not re-entrantly). */
  kick(): void {
    if (this.reloading || this.records === 0 || this.stopped) return;
    if (this.retryTimer !== undefined) return;
    this.reloading = true;
    queueMicrotask(() => {
      let failed = false;
      this.reload()
        .catch((error: unknown) => {
          failed = true;
          this.s.onError(
            toLcError(error, 'LC_ERR_BUFFER_IO', 'spill read failed; retrying'),
          );
        })
        .finally(() => {
          this.reloading = false;
          this.s.afterReload();
          if (failed) this.retryLater();
          else if (this.records > 0 && this.s.memoryHasRoom()) this.kick();
        });
    });
  }

  private retryLater(): void {
    if (this.stopped) return;
    const timer = this.s.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, RETRY_AFTER_MS);
    timer.unref();
    this.retryTimer = timer;
  }

  /**
   * Open the log now. Durable: what a previous process left is kept and
   * delivered first; otherwise it is discarded.
   */
  async open(): Promise<void> {
    await this.ensureLog();
  }

  /**
   * Stop moving records and close the log. Durable: records not written
   * yet are written first (they are then held, like every other spilled
   * record); what is left is delivered after the next start.
   */
  async shutdown(): Promise<void> {
    if (this.retryTimer !== undefined)
      this.s.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.s.durable) {
      for (let i = 0; i < 1000 && this.unwritten.length > 0; i++) {
        this.write();
        const w = this.writing;
        if (w === undefined) break; // the disk refuses: they stay unheld
        await w;
      }
    }
    this.stopped = true;
    await this.writing;
    await this.dropping;
    const log = this.log;
    if (log !== undefined) await log.shutdown();
    if (this.s.durable && log !== undefined)
      await saveConsumed(this.s.directory, this.partial, this.s.onError);
  }

  private ensureLog(): Promise<DiskLog> {
    this.opening ??= this.openLog().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async openLog(): Promise<DiskLog> {
    const log = await createDiskLog({
      directory: this.s.directory,
      maxSegmentBytes: this.s.maxSegmentBytes,
      fsync: this.s.durable ? this.s.fsync : 'never',
      name: `${this.s.name}-spill`,
      clock: this.s.clock,
      logger: this.s.logger,
      registry: this.s.registry,
      onError: this.s.onError,
    });
    let records = 0;
    let first: number | undefined;
    const consumed = this.s.durable
      ? await readConsumed(this.s.directory)
      : undefined;
    for await (const entry of log.read()) {
      let n = chunkLength(entry.payload);
      if (!this.s.durable) {
        records += n;
        log.ack(entry.seq);
        continue;
      }
      // Delivered in part before a clean stop: that part is skipped.
      if (consumed?.seq === entry.seq) {
        this.skip = consumed;
        n -= Math.min(n, consumed.i + 1);
      }
      records += n;
      first ??= entry.seq;
      this.chunks.push(entry.seq, n, entry.payload.length, entry.timestampMs);
      this.records += n;
      this.bytes += entry.payload.length;
    }
    if (records > 0) {
      this.s.logger.info(
        { records, directory: this.s.directory },
        this.s.durable
          ? 'records spilled by a previous process are delivered first'
          : 'discarded records spilled by a previous process (their positions were never committed: sources read them again)',
      );
    }
    if (this.s.durable) this.recoveredTotal = records;
    this.nextReadSeq = first ?? log.nextSeq;
    this.ackedBelow = this.nextReadSeq;
    this.log = log;
    return log;
  }

  /** Write the oldest unwritten chunk, one chunk at a time. */
  private write(): void {
    if (this.writing !== undefined || this.unwritten.length === 0) return;
    if (this.stopped || !this.diskUsable()) return;
    let n = 0;
    let bytes = 0;
    while (
      n < this.unwritten.length &&
      n < CHUNK_MAX_RECORDS &&
      bytes < CHUNK_MAX_BYTES
    ) {
      bytes += recordBytes(this.unwritten[n] as LogRecord);
      n++;
    }
    const chunk = this.unwritten.slice(0, n);
    const payload = encodeChunk(chunk, this.dict);
    const atMs = this.unwrittenSinceMs;
    this.writing = this.ensureLog()
      .then((log) => log.append(payload, { timestampMs: atMs }))
      .then(
        (seq) => {
          // Moved back from memory meanwhile? Only the head can have been.
          this.unwritten.splice(0, n);
          this.unwrittenBytes -= bytes;
          this.chunks.push(seq, n, bytes, atMs);
          this.unwrittenSinceMs = this.s.clock.now();
          if (this.s.durable) this.s.settle(this.unwrittenAcks.splice(0, n));
        },
        (error: unknown) => {
          this.failedAtMs = this.s.clock.monotonicNow();
          this.s.onError(
            toLcError(
              error,
              'LC_ERR_BUFFER_IO',
              `spill write failed; records stay in memory and the intake backpressures for ${RETRY_AFTER_MS} ms`,
            ),
          );
        },
      )
      .finally(() => {
        this.writing = undefined;
        this.write();
        this.kick();
      });
  }

  private diskUsable(): boolean {
    return this.s.clock.monotonicNow() - this.failedAtMs >= RETRY_AFTER_MS;
  }

  /** Move records back into memory, oldest first, while it has room. */
  private async reload(): Promise<void> {
    const s = this.s;
    while (!this.stopped && this.records > 0 && s.memoryHasRoom()) {
      if (this.readAheadHead < this.readAhead.length) {
        this.admitReadAhead();
      } else if (this.chunks.length > 0) {
        await this.dropping;
        await this.readChunk();
      } else if (this.writing !== undefined) {
        // The head is being written; it is read back once on disk.
        await this.writing;
      } else {
        this.admitUnwritten();
      }
    }
    if (this.records === 0) this.dict.clear();
  }

  private admitReadAhead(): void {
    const s = this.s;
    const n = this.readAhead.length;
    while (this.readAheadHead < n && s.memoryHasRoom()) {
      const i = this.readAheadHead;
      const record = this.readAhead[i] as LogRecord;
      this.readAhead[this.readAheadHead++] = undefined as never;
      this.moved(record);
      s.admit(
        record,
        s.durable
          ? {
              as: {
                source: this.ref,
                cursor: { seq: this.readAheadSeq, i, n },
              },
            }
          : undefined,
      );
    }
    if (this.readAheadHead >= n) {
      this.readAhead = [];
      this.readAheadHead = 0;
    }
  }

  /** Nothing on disk or being written: take unwritten records directly. */
  private admitUnwritten(): void {
    const s = this.s;
    let n = 0;
    while (n < this.unwritten.length && s.memoryHasRoom()) {
      const record = this.unwritten[n] as LogRecord;
      const item = this.unwrittenAcks[n];
      n++;
      this.unwrittenBytes -= recordBytes(record);
      this.moved(record);
      s.admit(record, item === undefined ? undefined : { item });
    }
    this.unwritten.splice(0, n);
    this.unwrittenAcks.splice(0, n);
  }

  private async readChunk(): Promise<void> {
    const log = await this.ensureLog();
    for await (const entry of log.read({ fromSeq: this.nextReadSeq })) {
      // One entry per chunk, consecutive seqs: a gap is a damaged chunk the
      // log quarantined and skipped.
      while (this.chunks.length > 0 && this.chunks.headSeq < entry.seq)
        this.lose(this.chunks.shift().records);
      const records = decodeChunk(entry.payload, this.dict);
      if (this.chunks.headSeq === entry.seq) this.chunks.shift();
      this.nextReadSeq = entry.seq + 1;
      this.readAhead = records;
      this.readAheadHead = 0;
      this.readAheadAtMs = entry.timestampMs;
      if (this.skip?.seq === entry.seq) {
        this.readAheadHead = Math.min(records.length, this.skip.i + 1);
        this.skip = undefined;
      }
      this.readAheadSeq = entry.seq;
      // Non-durable: in memory now, no need to keep it. Durable: it is
      // acknowledged once delivered (see `committed`).
      if (!this.s.durable) log.ack(entry.seq);
      return;
    }
    // Nothing readable is left although chunks were written: all damaged.
    while (this.chunks.length > 0) this.lose(this.chunks.shift().records);
  }

  /** `n` records of a damaged chunk can never be read back. */
  private lose(n: number): void {
    if (n === 0) return;
    this.records -= n;
    // Their sizes are gone with them: estimate from the spill's average.
    this.bytes -= Math.min(
      this.bytes,
      n * Math.ceil(this.bytes / (this.records + n)),
    );
    this.s.onError(
      new LcError({
        code: 'LC_ERR_BUFFER_CORRUPT',
        message: `${n} spilled records could not be read back (damaged on disk)`,
        details: { records: n },
      }),
    );
    this.lostTotal += n;
    this.s.onLost(n);
  }

  /**
   * `whenFull: drop_oldest`: delete the oldest chunk on disk to make room.
   * Counted and logged with the sources whose records went.
   */
  private dropOldest(): void {
    if (this.dropping !== undefined || this.chunks.length === 0) return;
    this.dropping = this.dropChunk()
      .catch((error: unknown) =>
        this.s.onError(
          toLcError(error, 'LC_ERR_BUFFER_IO', 'spill drop failed'),
        ),
      )
      .finally(() => {
        this.dropping = undefined;
      });
  }

  private async dropChunk(): Promise<void> {
    const log = await this.ensureLog();
    const head = this.chunks.shift();
    const sources = await chunkSources(log, head.seq, this.dict);
    try {
      log.ack(head.seq);
    } catch {
      // quarantined already
    }
    if (this.nextReadSeq <= head.seq) this.nextReadSeq = head.seq + 1;
    if (this.ackedBelow === head.seq) this.ackedBelow++;
    this.records -= head.records;
    this.bytes = Math.max(0, this.bytes - head.bytes);
    this.droppedTotal += head.records;
    this.s.onDropped(head.records);
    this.s.logger.warn(
      {
        records: head.records,
        sources,
        maxBytes: this.s.maxBytes,
      },
      'disk buffer full (spill.whenFull: drop_oldest): dropped its oldest records',
    );
  }

  private moved(record: LogRecord): void {
    this.records--;
    // Chunks recovered at open were counted by their size on disk.
    this.bytes = Math.max(0, this.bytes - recordBytes(record));
    this.admittedTotal++;
  }
}
