import { createDiskLog } from '@lc/buffer';
import type { DiskLog } from '@lc/buffer';
import { toLcError } from '@lc/core';
import type { Clock, Cursor, LogRecord, SourceRef } from '@lc/core';
import type { AckItem } from './ack-tracker.js';
import { recordBytes } from './intake-budget.js';
import {
  decodeChunk,
  encodeChunk,
  nextChunk,
  SpillDictionary,
} from './spill-codec.js';
import { readConsumed, saveConsumed } from './spill-consumed.js';
import {
  MAX_UNWRITTEN_BYTES,
  RETRY_AFTER_MS,
  SPILL_SOURCE_KIND,
} from './spill-setup.js';
import type { SpillSetup } from './spill-setup.js';
import { scanLeftovers, SpillReadBack } from './spill-read-back.js';
import {
  ChunkQueue,
  damagedError,
  dropChunkFromLog,
  SpillFreeSpace,
} from './spill-space.js';

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
  private readonly back = new SpillReadBack();
  /** When the oldest unwritten record entered the spill (at most). */
  private unwrittenSinceMs = 0;
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
    );
  }

  /** Whether a record added now stays within the bounds. */
  hasRoom(): boolean {
    if (this.stopped || this.unwrittenBytes >= MAX_UNWRITTEN_BYTES)
      return false;
    if (!this.diskUsable()) return false;
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
    if (this.back.pending > 0) return this.back.atMsOfHead;
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
    if (this.log !== undefined) this.back.committed(this.log, cursor);
  }

  /** Memory may have room: move records back (soon, not re-entrantly). */
  kick(): void {
    if (this.reloading || this.records === 0 || this.stopped) return;
    if (this.retryTimer !== undefined) return;
    this.reloading = true;
    queueMicrotask(() => void this.reloadOnce());
  }

  /** One reload pass; after a read failure the next waits `RETRY_AFTER_MS`. */
  private async reloadOnce(): Promise<void> {
    let failed = false;
    try {
      await this.reload();
    } catch (error) {
      failed = true;
      this.s.onError(
        toLcError(error, 'LC_ERR_BUFFER_IO', 'spill read failed; retrying'),
      );
    }
    this.reloading = false;
    this.s.afterReload();
    if (!failed && this.records > 0 && this.s.memoryHasRoom()) this.kick();
    if (!failed || this.stopped) return;
    this.retryTimer = this.s.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, RETRY_AFTER_MS);
    this.retryTimer.unref();
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
      await saveConsumed(this.s.directory, this.back.partial, this.s.onError);
  }

  /**
   * Open the log (once; again after a failure). Durable: what a previous
   * process left is kept and delivered first; otherwise it is discarded.
   */
  open(): Promise<DiskLog> {
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
    const { records, bytes, first, skip } = await scanLeftovers(
      log,
      this.s.durable ? await readConsumed(this.s.directory) : undefined,
      this.s.durable ? this.chunks : undefined,
    );
    this.back.skip = skip;
    if (this.s.durable) {
      this.records += records;
      this.bytes += bytes;
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
    this.back.startAt(first ?? log.nextSeq);
    this.log = log;
    return log;
  }

  /** Write the oldest unwritten chunk, one chunk at a time. */
  private write(): void {
    if (this.writing !== undefined || this.unwritten.length === 0) return;
    if (this.stopped || !this.diskUsable()) return;
    const { n, bytes } = nextChunk(this.unwritten);
    const payload = encodeChunk(this.unwritten.slice(0, n), this.dict);
    const atMs = this.unwrittenSinceMs;
    this.writing = this.open()
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
      if (this.back.pending > 0) this.admitReadAhead();
      else if (this.chunks.length > 0) {
        await this.dropping;
        await this.readChunk();
      }
      // The head is being written; it is read back once on disk.
      else if (this.writing !== undefined) await this.writing;
      else this.admitUnwritten();
    }
    if (this.records === 0) this.dict.clear();
  }

  private admitReadAhead(): void {
    const s = this.s;
    while (this.back.pending > 0 && s.memoryHasRoom()) {
      const { record, cursor } = this.back.take();
      this.moved(record);
      s.admit(
        record,
        s.durable ? { as: { source: this.ref, cursor } } : undefined,
      );
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
    const log = await this.open();
    for await (const entry of log.read({ fromSeq: this.back.nextSeq })) {
      // One entry per chunk, consecutive seqs: a gap is a damaged chunk the
      // log quarantined and skipped.
      while (this.chunks.length > 0 && this.chunks.headSeq < entry.seq)
        this.lose(this.chunks.shift().records);
      const records = decodeChunk(entry.payload, this.dict);
      if (this.chunks.headSeq === entry.seq) this.chunks.shift();
      this.back.load(entry.seq, records, entry.timestampMs);
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
    this.s.onError(damagedError(n));
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
    const log = await this.open();
    const head = this.chunks.shift();
    const { logger, maxBytes } = this.s;
    await dropChunkFromLog(log, head, this.dict, logger, maxBytes);
    this.back.dropped(head.seq);
    this.records -= head.records;
    this.bytes = Math.max(0, this.bytes - head.bytes);
    this.droppedTotal += head.records;
    this.s.onDropped(head.records);
  }

  private moved(record: LogRecord): void {
    this.records--;
    // Chunks recovered at open were counted by their size on disk.
    this.bytes = Math.max(0, this.bytes - recordBytes(record));
    this.admittedTotal++;
  }
}
