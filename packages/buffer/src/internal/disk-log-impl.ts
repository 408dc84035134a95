// The disk log engine: one writer loop (group commit), an ack writer, and
// readers that stream segments. See docs/buffer-format.md.
import { unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError, once, type TimerHandle } from '@lc/core';
import type {
  DiskLog,
  DiskLogAppendInput,
  DiskLogEntry,
  DiskLogOptions,
  DiskLogReadOptions,
  DiskLogStats,
} from '../disk-log.js';
import { AckWriter } from './ack-writer.js';
import type { AckSet } from './ack-set.js';
import { codecId } from './block-codec.js';
import { FLAG_ENCRYPTED } from './frame.js';
import { toBufferError } from './fs-utils.js';
import { prepareAppendInput, type QueuedRecord } from './append-input.js';
import { readLog } from './log-reader.js';
import { encodeWrite, noteWrite } from './write-encoder.js';
import { createDiskLogMetrics, type DiskLogMetrics } from './metrics.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import type { PendingRecord } from './record-codec.js';
import { recoverDirectory, type CorruptionReason } from './recover.js';
import {
  enforceAge,
  makeRoom,
  totalBytes,
  type RetentionHost,
} from './retention.js';
import { createSegmentFile, type ActiveSegment } from './segment-create.js';
import {
  SEGMENT_HEADER_BYTES,
  indexFileName,
  keyCheck,
} from './segment-file.js';
import { writeSegmentIndex, type SegmentMeta } from './segment-meta.js';

const MAX_WRITE_BATCH_BYTES = 8 * 1024 * 1024;
const ACK_CHECKPOINT_BYTES = 1024 * 1024;

interface QueuedAppend {
  records: QueuedRecord[];
  bytes: number;
  resolve: (seqs: number[]) => void;
  reject: (error: unknown) => void;
}

export async function openDiskLog(options: DiskLogOptions): Promise<DiskLog> {
  const opts = resolveOptions(options);
  const log = new DiskLogImpl(opts);
  await log.open();
  return log;
}

export class DiskLogImpl implements DiskLog {
  readonly opts: ResolvedOptions;
  readonly metrics: DiskLogMetrics;
  readonly keyCheck: Buffer;
  segments: SegmentMeta[] = [];
  acks!: AckSet;
  private seq = 0;
  private active: ActiveSegment | undefined;
  private queue: QueuedAppend[] = [];
  private writing: Promise<void> | undefined;
  private dataLock: Promise<void> = Promise.resolve();
  private dataDirty = false;
  private acksOut!: AckWriter;
  private fsyncTimer: TimerHandle | undefined;
  private ageTimer: TimerHandle | undefined;
  private spaceWaiters: (() => void)[] = [];
  private closed = false;
  readonly counters = {
    appendedRecords: 0,
    appendedBytes: 0,
    readRecords: 0,
    readBytes: 0,
    fsyncs: 0,
    corruptions: 0,
    quarantinedBytes: 0,
    droppedRecords: 0,
    lostRecords: 0,
  };
  private readonly label: { buffer: string };

  constructor(opts: ResolvedOptions) {
    this.opts = opts;
    this.metrics = createDiskLogMetrics(opts.registry);
    this.keyCheck = keyCheck(opts.encryptionKey);
    this.label = { buffer: opts.name };
  }

  async open(): Promise<void> {
    const rec = await recoverDirectory({
      directory: this.opts.directory,
      keyCheck: this.keyCheck,
      hasKey: this.opts.encryptionKey !== undefined,
      report: (reason, details, bytes) =>
        this.reportCorruption(reason, details, bytes),
      markLost: (acks, from, to) => this.markLostIn(acks, from, to),
      onError: (error) => this.opts.onError(error),
    });
    this.segments = rec.segments;
    this.seq = rec.nextSeq;
    this.acks = rec.acks;
    this.acksOut = new AckWriter(rec.journal, {
      fsync: this.opts.fsync,
      onError: (error) => this.opts.onError(error),
      scheduleFsync: () => this.scheduleFsync(),
      countFsync: () => this.countFsync(),
      afterWrite: async () => {
        await this.deleteAckedSegments();
        if (this.acksOut.journalBytes > ACK_CHECKPOINT_BYTES)
          await this.checkpointAcks();
        this.wakeWriters();
      },
      // Acked segments may still be deleted (their records can never come
      // back), which frees the space to retry the journal.
      onDiskFull: async () => {
        const freed = await this.deleteAckedSegments(true);
        this.wakeWriters();
        return freed;
      },
    });
    await this.deleteAckedSegments();
    if (this.opts.maxAgeMs !== undefined) {
      await this.enforceAge();
      this.scheduleAgeCheck();
    }
    this.updateGauges();
  }

  get nextSeq(): number {
    return this.seq;
  }

  // ---------------------------------------------------------------- append

  append(
    payload: Uint8Array,
    meta?: { timestampMs?: number; source?: string },
  ): Promise<number> {
    return this.appendMany([
      { payload, timestampMs: meta?.timestampMs, source: meta?.source },
    ]).then((seqs) => seqs[0] as number);
  }

  appendMany(entries: ReadonlyArray<DiskLogAppendInput>): Promise<number[]> {
    if (this.closed) return Promise.reject(shutDownError());
    if (entries.length === 0) return Promise.resolve([]);
    let input: ReturnType<typeof prepareAppendInput>;
    try {
      input = prepareAppendInput(
        entries,
        this.opts.clock.now(),
        this.opts.maxSegmentBytes,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ ...input, resolve, reject });
      this.kickWriter();
    });
  }

  private kickWriter(): void {
    if (this.writing !== undefined) return;
    this.writing = this.drainQueue().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0) this.kickWriter();
    });
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (
        n < this.queue.length &&
        (n === 0 ||
          bytes + (this.queue[n] as QueuedAppend).bytes <=
            MAX_WRITE_BATCH_BYTES)
      ) {
        bytes += (this.queue[n] as QueuedAppend).bytes;
        n++;
      }
      const batch = this.queue.splice(0, n);
      try {
        await this.withDataLock(() => this.writeBatch(batch));
      } catch (error) {
        for (const a of batch) a.reject(error);
      }
    }
  }

  private withDataLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.dataLock.then(fn);
    this.dataLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async writeBatch(batch: QueuedAppend[]): Promise<void> {
    const done: [QueuedAppend, number[]][] = [];
    let i = 0;
    while (i < batch.length) {
      const first = batch[i] as QueuedAppend;
      let active: { meta: SegmentMeta; handle: FileHandle };
      try {
        active = await this.prepareFor(first.bytes);
      } catch (error) {
        first.reject(
          toBufferError(error, 'disk log append', this.opts.directory),
        );
        i++;
        continue;
      }
      const group = [first];
      let groupBytes = first.bytes;
      i++;
      while (i < batch.length) {
        const next = batch[i] as QueuedAppend;
        if (
          active.meta.bytes + groupBytes + next.bytes >
          this.opts.maxSegmentBytes
        )
          break;
        if (
          this.opts.maxTotalBytes !== undefined &&
          this.diskBytes() + groupBytes + next.bytes > this.opts.maxTotalBytes
        ) {
          break;
        }
        group.push(next);
        groupBytes += next.bytes;
        i++;
      }
      const records: PendingRecord[] = [];
      const seqsPer: number[][] = [];
      let s = this.seq;
      for (const a of group) {
        const seqs: number[] = [];
        for (const r of a.records) {
          records.push({
            seq: s,
            timestampMs: r.timestampMs,
            source: r.source,
            sourceText: r.sourceText,
            payload: r.payload,
            frameBytes: r.frameBytes,
          });
          seqs.push(s++);
        }
        seqsPer.push(seqs);
      }
      try {
        await this.writeRecords(active, records);
      } catch (error) {
        const err = toBufferError(
          error,
          'disk log append',
          join(this.opts.directory, active.meta.name),
        );
        for (const a of group) a.reject(err);
        continue;
      }
      this.seq = s;
      group.forEach((a, k) => done.push([a, seqsPer[k] as number[]]));
    }
    if (done.length === 0) return;
    if (this.opts.fsync === 'always') {
      try {
        await this.syncActive();
      } catch (error) {
        const err = toBufferError(error, 'disk log fdatasync');
        for (const [a] of done) a.reject(err);
        return;
      }
    } else {
      this.dataDirty = true;
      if (this.opts.fsync === 'interval') this.scheduleFsync();
    }
    for (const [a, seqs] of done) a.resolve(seqs);
  }

  /** Write frames at the end of the active segment; all or nothing. */
  private async writeRecords(
    active: { meta: SegmentMeta; handle: FileHandle },
    records: PendingRecord[],
  ): Promise<void> {
    const flags =
      codecId(this.opts.compression) |
      (this.opts.encryptionKey === undefined ? 0 : FLAG_ENCRYPTED);
    const w = await encodeWrite(
      records,
      flags,
      this.opts.encryptionKey,
      this.opts.clock.now(),
    );
    const buf = w.buf;
    const pos = active.meta.bytes;
    try {
      let written = 0;
      while (written < buf.length) {
        const { bytesWritten } = await active.handle.write(
          buf,
          written,
          buf.length - written,
          pos + written,
        );
        written += bytesWritten;
      }
    } catch (error) {
      // Leave nothing partial: a torn frame here would be a hole once more
      // records follow it.
      await active.handle
        .truncate(pos)
        .catch((e: unknown) => this.opts.onError(e));
      throw error;
    }
    noteWrite(active.meta, pos, w);
    this.counters.appendedRecords += records.length;
    this.counters.appendedBytes += buf.length;
    this.metrics.recordsWritten.inc(this.label, records.length);
    this.metrics.bytesWritten.inc(this.label, buf.length);
    this.updateGauges();
  }

  /** Rotate/create the active segment and apply retention for `bytes`. */
  private async prepareFor(
    bytes: number,
  ): Promise<{ meta: SegmentMeta; handle: FileHandle }> {
    if (
      this.active !== undefined &&
      this.active.meta.count > 0 &&
      this.active.meta.bytes + bytes > this.opts.maxSegmentBytes
    ) {
      await this.sealActive();
    }
    await this.makeRoom(
      bytes + (this.active === undefined ? SEGMENT_HEADER_BYTES : 0),
      this.active === undefined ? 1 : 0,
    );
    this.active ??= await this.createSegment();
    return this.active;
  }

  private diskBytes(): number {
    return totalBytes(this.segments);
  }

  /** The view of this log that retention works on. */
  private retentionHost(): RetentionHost {
    return {
      opts: this.opts,
      acks: this.acks,
      segments: () => this.segments,
      activeSegment: () => this.active,
      isClosed: () => this.closed,
      deleteAckedSegments: () => this.deleteAckedSegments(),
      sealActive: () => this.sealActive(),
      dropSegment: (meta, reason) => this.dropSegment(meta, reason),
      waitForSpace: () =>
        new Promise<void>((resolve) => this.spaceWaiters.push(resolve)),
      shutDownError,
    };
  }

  private makeRoom(extraBytes: number, extraSegments: number): Promise<void> {
    return makeRoom(this.retentionHost(), extraBytes, extraSegments);
  }

  private async createSegment(): Promise<ActiveSegment> {
    const created = await createSegmentFile({
      directory: this.opts.directory,
      firstSeq: this.seq,
      nowMs: this.opts.clock.now(),
      encrypted: this.opts.encryptionKey !== undefined,
      keyCheck: this.keyCheck,
      sync: this.opts.fsync !== 'never',
    });
    this.segments.push(created.meta);
    this.updateGauges();
    return created;
  }

  private async sealActive(): Promise<void> {
    const a = this.active;
    if (a === undefined) return;
    this.active = undefined;
    try {
      if (this.opts.fsync !== 'never') await this.timedSync(a.handle);
    } finally {
      await a.handle.close();
    }
    a.meta.sealed = true;
    if (a.meta.count === 0) {
      this.segments = this.segments.filter((s) => s !== a.meta);
      await unlink(join(this.opts.directory, a.meta.name)).catch(
        () => undefined,
      );
      return;
    }
    // The index only speeds up the next open; without it the segment is
    // rescanned, so a failure here (disk full) must not fail the append.
    await writeSegmentIndex(this.opts.directory, a.meta).catch(
      (error: unknown) =>
        this.opts.onError(
          toBufferError(error, 'disk log index write', a.meta.name),
        ),
    );
  }

  private async timedSync(handle: FileHandle): Promise<void> {
    const start = this.opts.clock.monotonicNow();
    await handle.datasync();
    this.counters.fsyncs++;
    this.metrics.fsyncs.inc(this.label);
    this.metrics.fsyncSeconds.observe(
      this.label,
      (this.opts.clock.monotonicNow() - start) / 1000,
    );
  }

  private async syncActive(): Promise<void> {
    this.dataDirty = false;
    if (this.active !== undefined) await this.timedSync(this.active.handle);
  }

  private scheduleFsync(): void {
    if (this.fsyncTimer !== undefined) return;
    this.fsyncTimer = this.opts.clock.setTimeout(() => {
      this.fsyncTimer = undefined;
      this.syncAll().catch((error: unknown) => this.opts.onError(error));
    }, this.opts.fsyncIntervalMs);
    this.fsyncTimer.unref();
  }

  private async syncAll(): Promise<void> {
    if (this.dataDirty) await this.withDataLock(() => this.syncActive());
    if (this.acksOut.dirty) await this.acksOut.sync();
  }

  // ---------------------------------------------------------------- acks

  ack(seqs: number | readonly number[]): void {
    if (this.closed) throw shutDownError();
    const list = typeof seqs === 'number' ? [seqs] : seqs;
    for (const s of list) {
      if (!Number.isSafeInteger(s) || s < 0 || s >= this.seq) {
        throw new LcError({
          code: 'LC_ERR_INVALID_INPUT',
          message: `disk log ack of seq ${s}, which was never appended (nextSeq=${this.seq})`,
          details: { seq: s, nextSeq: this.seq },
        });
      }
    }
    for (const s of list) {
      if (this.acks.add(s)) this.acksOut.queue(s, s);
    }
    this.acksOut.kick();
  }

  private countFsync(): void {
    this.counters.fsyncs++;
    this.metrics.fsyncs.inc(this.label);
  }

  private async checkpointAcks(): Promise<void> {
    this.acks.dropBelow(this.segments[0]?.firstSeq ?? this.seq);
    await this.acksOut.checkpoint(this.acks, this.seq);
  }

  private wakeWriters(): void {
    const w = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const f of w) f();
  }

  /** Delete sealed segments whose records are all acknowledged. */
  private async deleteAckedSegments(diskFull = false): Promise<boolean> {
    const victims = this.segments.filter(
      (s) => s.sealed && this.acks.coversRange(s.firstSeq, s.lastSeq),
    );
    if (victims.length === 0) return false;
    // The acks should be durable before their evidence disappears (else a
    // crash reports the deleted segment as missing). On a full disk that is
    // impossible; deleting anyway is still safe: nothing can come back.
    if (!diskFull) {
      await this.acksOut.appendQueued();
      if (this.acksOut.dirty && this.opts.fsync !== 'never')
        await this.acksOut.sync();
    }
    for (const v of victims) await this.removeSegmentFiles(v);
    return true;
  }

  private async removeSegmentFiles(meta: SegmentMeta): Promise<void> {
    this.segments = this.segments.filter((s) => s !== meta);
    await unlink(join(this.opts.directory, meta.name)).catch(() => undefined);
    await unlink(join(this.opts.directory, indexFileName(meta.name))).catch(
      () => undefined,
    );
    this.updateGauges();
  }

  /** Delete a segment that still has unacknowledged records (retention). */
  private async dropSegment(
    meta: SegmentMeta,
    reason: 'retention-limit' | 'max-age',
  ): Promise<void> {
    const total = meta.lastSeq - meta.firstSeq + 1;
    const unacked = total - this.acks.countInRange(meta.firstSeq, meta.lastSeq);
    if (this.acks.addRange(meta.firstSeq, meta.lastSeq))
      this.acksOut.queue(meta.firstSeq, meta.lastSeq);
    this.counters.droppedRecords += unacked;
    this.metrics.dropped.inc({ ...this.label, reason }, unacked);
    this.opts.logger.warn(
      {
        segment: meta.name,
        unackedRecords: unacked,
        reason,
        firstSeq: meta.firstSeq,
        lastSeq: meta.lastSeq,
      },
      'disk log dropped the oldest segment',
    );
    if (this.acksOut.hasPending) {
      await this.acksOut.appendQueued();
      if (this.opts.fsync !== 'never') await this.acksOut.sync();
    }
    await this.removeSegmentFiles(meta);
  }

  private scheduleAgeCheck(): void {
    const maxAge = this.opts.maxAgeMs;
    if (maxAge === undefined || this.closed) return;
    const every = Math.max(100, Math.min(maxAge / 4, 60_000));
    this.ageTimer = this.opts.clock.setTimeout(() => {
      this.ageTimer = undefined;
      this.withDataLock(() => this.enforceAge())
        .catch((error: unknown) => this.opts.onError(error))
        .finally(() => this.scheduleAgeCheck());
    }, every);
    this.ageTimer.unref();
  }

  private enforceAge(): Promise<void> {
    return enforceAge(this.retentionHost());
  }

  // ---------------------------------------------------------------- health

  reportCorruption(
    reason: CorruptionReason,
    details: Record<string, unknown>,
    bytes: number,
  ): void {
    this.counters.corruptions++;
    this.counters.quarantinedBytes += bytes;
    this.metrics.corruptions.inc({ ...this.label, reason });
    this.opts.logger.warn(
      { reason, ...details, code: 'LC_ERR_BUFFER_CORRUPT' },
      'disk log healed damaged data',
    );
  }

  markLostIn(acks: AckSet, from: number, to: number): number {
    if (to < from) return 0;
    const lost = to - from + 1 - acks.countInRange(from, to);
    if (lost > 0) {
      acks.addRange(from, to);
      if (acks === this.acks && this.acksOut !== undefined) {
        this.acksOut.queue(from, to);
        this.acksOut.kick();
      }
      this.counters.lostRecords += lost;
      this.metrics.dropped.inc({ ...this.label, reason: 'corruption' }, lost);
    }
    return lost;
  }

  /** Count records yielded by a reader (called in batches: metrics cost). */
  noteRead(records: number, bytes: number): void {
    if (records === 0) return;
    this.counters.readRecords += records;
    this.counters.readBytes += bytes;
    this.metrics.recordsRead.inc(this.label, records);
    this.metrics.bytesRead.inc(this.label, bytes);
  }

  assertOpen(): void {
    if (this.closed) throw shutDownError();
  }

  private updateGauges(): void {
    this.metrics.segments.set(this.label, this.segments.length);
    this.metrics.diskBytes.set(this.label, this.diskBytes());
  }

  // ---------------------------------------------------------------- read

  read(options: DiskLogReadOptions = {}): AsyncIterable<DiskLogEntry> {
    return readLog(this, options);
  }

  stats(): DiskLogStats {
    let unacked = 0;
    for (const s of this.segments) {
      if (s.lastSeq >= s.firstSeq) {
        unacked +=
          s.lastSeq -
          s.firstSeq +
          1 -
          this.acks.countInRange(s.firstSeq, s.lastSeq);
      }
    }
    return {
      nextSeq: this.seq,
      segments: this.segments.length,
      diskBytes: this.diskBytes(),
      unackedRecords: unacked,
      blockedAppends: this.spaceWaiters.length,
      ...this.counters,
    };
  }

  // ---------------------------------------------------------------- lifecycle

  private async idle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    await this.acksOut.idle();
  }

  async flush(): Promise<void> {
    await this.idle();
    await this.withDataLock(() => this.syncActive());
    if (this.acksOut.hasPending) {
      this.acksOut.kick();
      await this.idle();
    }
    await this.acksOut.sync();
  }

  shutdown = once(async (): Promise<void> => {
    this.closed = true;
    this.wakeWriters();
    if (this.fsyncTimer !== undefined)
      this.opts.clock.clearTimeout(this.fsyncTimer);
    if (this.ageTimer !== undefined)
      this.opts.clock.clearTimeout(this.ageTimer);
    await this.idle();
    const report = (error: unknown): void =>
      this.opts.onError(toBufferError(error, 'disk log shutdown'));
    await this.withDataLock(() => this.sealActive()).catch(report);
    await this.acksOut.appendQueued().catch(report);
    // On a full disk the checkpoint may fail; the journal still holds acks.
    await this.checkpointAcks().catch(report);
    await this.acksOut.close();
  });
}

function shutDownError(): LcError {
  return new LcError({
    code: 'LC_ERR_SHUT_DOWN',
    message: 'disk log is shut down',
  });
}
