import { createDiskLog } from '@lc/buffer';
import type { DiskLog } from '@lc/buffer';
import { LcError, toLcError } from '@lc/core';
import type { Clock, Logger, LogRecord, MetricsRegistry } from '@lc/core';
import { recordBytes } from './intake-budget.js';
import {
  chunkLength,
  decodeChunk,
  encodeChunk,
  SpillDictionary,
} from './spill-codec.js';

// A disk-log entry holds up to this many records / estimated bytes.
const CHUNK_MAX_RECORDS = 1000;
const CHUNK_MAX_BYTES = 1024 * 1024;
// Records waiting to be written are in memory: past this, the spill counts
// as full (a slow or failing disk backpressures instead of growing memory).
const MAX_UNWRITTEN_BYTES = 4 * 1024 * 1024;
// After a failed open or append, the disk is not tried again for this long.
const RETRY_AFTER_MS = 5_000;

/** What a {@link Spill} needs. */
export interface SpillSetup {
  readonly directory: string;
  /** Estimated bytes (as for `maxQueueBytes`) the spill holds at most. */
  readonly maxBytes: number;
  readonly maxSegmentBytes: number;
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: MetricsRegistry;
  readonly onError: (error: unknown) => void;
  /** The in-memory intake has room for a reloaded record. */
  readonly memoryHasRoom: () => boolean;
  /** Admit a reloaded record into memory (the normal admission path). */
  readonly admit: (record: LogRecord) => void;
  /** A reload pass ended (records may have moved, the spill may be empty). */
  readonly afterReload: () => void;
  /** `records` (`bytes` estimated) went into the spill. */
  readonly onSpilled: (records: number, bytes: number) => void;
  /** `records` could not be read back (damaged on disk): counted, logged. */
  readonly onLost: (records: number) => void;
}

/**
 * The intake's overflow: a FIFO of records that did not fit in memory,
 * kept in an @lc/buffer disk log and moved back into memory, in order, as
 * room frees. Its order is [read ahead] ++ [on disk] ++ [being written] ++
 * [not written yet]; while it holds anything, every new record joins its
 * tail, so no record overtakes a spilled one.
 *
 * Not durable and not meant to be: spilled records are not tracked by the
 * ack tracker until they are back in memory, so no position is committed
 * past them and after a crash their sources read them again. Whatever a
 * previous process left in the directory is discarded on open.
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
  private readonly s: SpillSetup;
  private readonly dict = new SpillDictionary();
  private opening: Promise<DiskLog> | undefined;
  private log: DiskLog | undefined;
  private readAhead: LogRecord[] = [];
  private readAheadHead = 0;
  private onDisk = 0;
  /** Records per chunk on disk, oldest first (to account for a lost chunk). */
  private chunkSizes: number[] = [];
  private chunkHead = 0;
  private nextReadSeq = 0;
  private retryTimer: ReturnType<Clock['setTimeout']> | undefined;
  private writing: Promise<void> | undefined;
  private unwritten: LogRecord[] = [];
  private unwrittenBytes = 0;
  private failedAtMs = -Infinity;
  private reloading = false;
  private stopped = false;

  constructor(setup: SpillSetup) {
    this.s = setup;
  }

  /** Whether a record added now stays within the bounds. */
  hasRoom(): boolean {
    return (
      !this.stopped &&
      this.bytes < this.s.maxBytes &&
      this.unwrittenBytes < MAX_UNWRITTEN_BYTES &&
      this.s.clock.monotonicNow() - this.failedAtMs >= RETRY_AFTER_MS
    );
  }

  /** Append `record` at the tail (always taken: the caller checks {@link hasRoom}). */
  add(record: LogRecord): void {
    const bytes = recordBytes(record);
    this.records++;
    this.bytes += bytes;
    this.spilledTotal++;
    this.unwritten.push(record);
    this.unwrittenBytes += bytes;
    this.s.onSpilled(1, bytes);
    this.write();
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

  /** Open the log now (discarding a previous process's leftovers). */
  async open(): Promise<void> {
    await this.ensureLog();
  }

  /** Stop moving records; close the log. What is left is discarded. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined)
      this.s.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.writing;
    const log = this.log;
    if (log !== undefined) await log.shutdown();
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
      fsync: 'never',
      name: `${this.s.name}-spill`,
      clock: this.s.clock,
      logger: this.s.logger,
      registry: this.s.registry,
      onError: this.s.onError,
    });
    let chunks = 0;
    let records = 0;
    for await (const entry of log.read()) {
      chunks++;
      records += chunkLength(entry.payload);
      log.ack(entry.seq);
    }
    if (chunks > 0) {
      this.s.logger.info(
        { records, directory: this.s.directory },
        'discarded records spilled by a previous process (their positions were never committed: sources read them again)',
      );
    }
    this.nextReadSeq = log.nextSeq;
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
    this.writing = this.ensureLog()
      .then((log) => log.append(payload))
      .then(
        () => {
          // Moved back from memory meanwhile? Only the head can have been.
          this.unwritten.splice(0, n);
          this.unwrittenBytes -= bytes;
          this.onDisk += n;
          this.chunkSizes.push(n);
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
      } else if (this.onDisk > 0) {
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
    while (this.readAheadHead < this.readAhead.length && s.memoryHasRoom()) {
      const record = this.readAhead[this.readAheadHead] as LogRecord;
      this.readAhead[this.readAheadHead++] = undefined as never;
      this.moved(record);
      s.admit(record);
    }
    if (this.readAheadHead >= this.readAhead.length) {
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
      n++;
      this.unwrittenBytes -= recordBytes(record);
      this.moved(record);
      s.admit(record);
    }
    this.unwritten.splice(0, n);
  }

  private async readChunk(): Promise<void> {
    const log = await this.ensureLog();
    for await (const entry of log.read({ fromSeq: this.nextReadSeq })) {
      // One entry per chunk, consecutive seqs: a gap is a damaged chunk the
      // log quarantined and skipped.
      for (let seq = this.nextReadSeq; seq < entry.seq; seq++)
        this.lose(this.takeChunkSize());
      const records = decodeChunk(entry.payload, this.dict);
      this.takeChunkSize();
      this.nextReadSeq = entry.seq + 1;
      this.onDisk -= records.length;
      this.readAhead = records;
      this.readAheadHead = 0;
      // In memory now (and the spill is not durable anyway).
      log.ack(entry.seq);
      return;
    }
    // Nothing readable is left although chunks were written: all damaged.
    while (this.onDisk > 0) this.lose(this.takeChunkSize());
  }

  private takeChunkSize(): number {
    const n = this.chunkSizes[this.chunkHead++] ?? 0;
    if (this.chunkHead > 1024 && this.chunkHead * 2 > this.chunkSizes.length) {
      this.chunkSizes = this.chunkSizes.slice(this.chunkHead);
      this.chunkHead = 0;
    }
    return n;
  }

  /** `n` records of a damaged chunk can never be read back. */
  private lose(n: number): void {
    if (n === 0) return;
    this.onDisk -= n;
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

  private moved(record: LogRecord): void {
    this.records--;
    this.bytes -= recordBytes(record);
    this.admittedTotal++;
  }
}
