import type { Clock, Cursor, Intake, LogRecord } from '@lc/core';
import type { MultilineMetrics } from '../../multiline/internal/multiline-metrics.js';
import type { JoinedRecord } from '../../multiline/multiline-joiner.js';
import type { FileMetrics } from './file-metrics.js';
import type { SplitLine } from './line-splitter.js';
import type { TailedFile } from './tailed-file.js';

/**
 * Turns split lines into records and hands them to the intake. Timestamps
 * are shared by all files so records keep their order within a millisecond.
 */
export class RecordEmitter {
  /** Set when the intake refused more (`dispatchMany` returned false); the read loop clears it. */
  blocked = false;
  private lastStampMs = 0;
  private lastStampNanos = 0;

  private readonly intake: Intake;
  private readonly clock: Clock;
  private readonly metrics: Pick<FileMetrics, 'linesRead'>;
  private readonly multiline: MultilineMetrics;

  constructor(
    intake: Intake,
    clock: Clock,
    metrics: Pick<FileMetrics, 'linesRead'>,
    multiline: MultilineMetrics,
  ) {
    this.intake = intake;
    this.clock = clock;
    this.metrics = metrics;
    this.multiline = multiline;
  }

  /** Emit lines through the file's multiline joiner, if it has one. */
  emit(f: TailedFile, lines: SplitLine[]): void {
    if (lines.length === 0) return;
    if (f.joiner === undefined) {
      this.emitRaw(f, lines);
      return;
    }
    const joined: JoinedRecord<SplitLine>[] = [];
    const now = this.clock.monotonicNow();
    for (const line of lines) f.joiner.push(line, now, joined);
    this.emitJoined(f, joined);
  }

  /**
   * Emit the pending multiline record of `f`, if any: on `timeout`, or on
   * `flush` (the identity is finished, truncated, or `flush()` was called).
   */
  flushJoiner(f: TailedFile, reason: 'timeout' | 'flush'): void {
    if (f.joiner?.pending !== true) return;
    const joined: JoinedRecord<SplitLine>[] = [];
    f.joiner.flush(joined, reason);
    this.emitJoined(f, joined);
  }

  /** Emit lines as they are (no joiner). */
  emitRaw(f: TailedFile, lines: SplitLine[]): void {
    if (lines.length === 0) return;
    const records: LogRecord[] = [];
    this.toRecords(f, lines, records);
    f.linesRead += records.length;
    this.metrics.linesRead.inc(records.length);
    if (!this.intake.dispatchMany(records)) this.blocked = true;
  }

  /** Append the records of `lines` to `out`, with cursors and timestamps. */
  toRecords(
    f: TailedFile,
    lines: readonly SplitLine[],
    out: LogRecord[],
  ): void {
    // One clock read per chunk; nanos count up so records keep their order.
    const ms = this.clock.now();
    if (ms > this.lastStampMs) {
      this.lastStampMs = ms;
      this.lastStampNanos = -1;
    }
    for (const line of lines) {
      const cursor: Cursor =
        f.epoch === 0
          ? { offset: line.endOffset, line: line.lineNo }
          : { offset: line.endOffset, line: line.lineNo, epoch: f.epoch };
      if (line.timestampMs !== undefined) {
        // The line's format carried its own time (CRI).
        out.push({
          line: line.text,
          labels: line.labels ?? f.labels,
          source: f.source,
          cursor,
          timestampMs: line.timestampMs,
          timestampNanos: line.timestampNanos ?? 0,
        });
        continue;
      }
      if (this.lastStampNanos < 999_999) this.lastStampNanos++;
      out.push({
        line: line.text,
        labels: line.labels ?? f.labels,
        source: f.source,
        cursor,
        timestampMs: this.lastStampMs,
        timestampNanos: this.lastStampNanos,
      });
    }
  }

  /** A joined record is its last line's position with the joined text. */
  private emitJoined(f: TailedFile, joined: JoinedRecord<SplitLine>[]): void {
    if (joined.length === 0) return;
    this.multiline.count(joined);
    this.emitRaw(
      f,
      joined.map((r) => (r.lines === 1 ? r.last : { ...r.last, text: r.text })),
    );
  }
}
