import type { Clock, MetricsRegistry, TimerHandle } from '@lc/core';
import { systemClock } from '@lc/core';
import { createMultilineMetrics } from './internal/multiline-metrics.js';
import type {
  JoinableLine,
  JoinedRecord,
  MultilineJoiner,
} from './multiline-joiner.js';
import { joinerOf } from './multiline-joiner.js';
import type { MultilineConfig, MultilineOptions } from './multiline-options.js';
import { resolveMultilineOptions } from './multiline-options.js';

/** A line of a multi-stream source, with the resume point just after it. */
export interface StreamLine<C> extends JoinableLine {
  /**
   * Resuming from it continues right after this line: every line pushed
   * before it (on any stream) is behind it.
   */
  readonly cursor: C;
}

/** A joined record of one stream, with the cursor safe to commit for it. */
export interface StreamRecord<
  C,
  L extends StreamLine<C>,
> extends JoinedRecord<L> {
  /** The stream it was read from (`stdout`, `stderr`, …). */
  readonly stream: string;
  /**
   * The cursor to give the record: the resume point after the longest run
   * of lines, from the start, that are all in this record or in records
   * emitted before it. It never passes a line still pending on any stream
   * (or emitted after this record), so committing it can lose nothing; a
   * crash re-reads pending records whole.
   */
  readonly cursor: C;
}

/** Options of {@link createMultilineStreams}. */
export interface MultilineStreamsOptions<C, L extends StreamLine<C>> {
  /** How lines are joined (validated: `LcError` `LC_ERR_INVALID_OPTION`). */
  readonly multiline: MultilineOptions;
  /** The resume point before the first line pushed (where reading started). */
  readonly initialCursor: C;
  /**
   * Receives each record, in order. Return `false` to ask the reader to
   * pause (returned by the `push` that emitted it); records emitted by
   * the flush timer ignore it.
   */
  readonly onRecord: (record: StreamRecord<C, L>) => boolean | void;
  /** Timers (`unref()`'d) and monotonic time. @default systemClock */
  readonly clock?: Clock;
  /** Where `lc_multiline_flushes_total` is counted. @default a private registry */
  readonly registry?: MetricsRegistry;
  /** Its `source` label. @default 'stream' */
  readonly source?: string;
  /**
   * True while more lines are known to wait unread (the reader is paused
   * by backpressure): a due flush timeout then waits, so a slow reader
   * does not cut records whose next lines are already written.
   * @default never
   */
  readonly isBehind?: () => boolean;
  /** Errors thrown by `onRecord` from the flush timer. @default rethrown */
  readonly onError?: (error: unknown) => void;
}

/**
 * Multiline joining for a source that reads several interleaved streams
 * through one cursor (a container's stdout and stderr, a pod's log): one
 * joiner per stream, one flush timer, and record cursors that never pass
 * a line still pending on another stream.
 */
export interface MultilineStreams<C, L extends StreamLine<C>> {
  /**
   * Push the next line read, of `stream`, in read order across streams.
   * Returns `false` when an emitted record's `onRecord` returned `false`.
   */
  push(stream: string, line: L): boolean;
  /** Emit every pending record now, oldest first (the source ended). */
  flush(): void;
  /**
   * Drop the pending lines and stop the timer (shutdown: they were not
   * committed and are read again from the position). Idempotent; `push`
   * and `flush` are no-ops afterwards.
   */
  close(): void;
  /** True while lines wait for more. */
  readonly pending: boolean;
  /**
   * The resume point before the earliest line still pending on any
   * stream (resuming there reads every pending line again); undefined
   * when nothing is pending. A source that reports how far it has read
   * "for good" (a file's held bytes) holds back to it.
   */
  readonly pendingCursor: C | undefined;
}

/** Create {@link MultilineStreams}. */
export function createMultilineStreams<C, L extends StreamLine<C>>(
  options: MultilineStreamsOptions<C, L>,
): MultilineStreams<C, L> {
  return new Streams<C, L>(options);
}

/** Where a not yet emitted run of lines starts: its first line's sequence and the cursor before it. */
interface Before<C> {
  readonly seq: number;
  readonly cursor: C;
}

interface Pending<C, L extends StreamLine<C>> {
  readonly stream: string;
  readonly record: JoinedRecord<L>;
  readonly before: Before<C>;
}

class Streams<C, L extends StreamLine<C>> implements MultilineStreams<C, L> {
  private readonly config: MultilineConfig;
  private readonly clock: Clock;
  private readonly options: MultilineStreamsOptions<C, L>;
  private readonly metrics: ReturnType<typeof createMultilineMetrics>;
  private readonly joiners = new Map<string, MultilineJoiner<L>>();
  /** Per stream with a pending record: where it starts. */
  private readonly groups = new Map<string, Before<C>>();
  private lastCursor: C;
  private seq = 0;
  private timer: TimerHandle | undefined;
  private timerDueAt = Infinity;
  private closed = false;

  constructor(options: MultilineStreamsOptions<C, L>) {
    this.options = options;
    this.config = resolveMultilineOptions(
      options.multiline,
      'multiline',
      'createMultilineStreams',
    );
    this.clock = options.clock ?? systemClock;
    this.metrics = createMultilineMetrics(
      options.registry,
      options.source ?? 'stream',
    );
    this.lastCursor = options.initialCursor;
  }

  get pending(): boolean {
    return this.groups.size > 0;
  }

  get pendingCursor(): C | undefined {
    let first: Before<C> | undefined;
    for (const g of this.groups.values())
      if (first === undefined || g.seq < first.seq) first = g;
    return first?.cursor;
  }

  push(stream: string, line: L): boolean {
    if (this.closed) return true;
    let joiner = this.joiners.get(stream);
    if (joiner === undefined) {
      joiner = joinerOf<L>(this.config);
      this.joiners.set(stream, joiner);
    }
    const before: Before<C> = { seq: this.seq++, cursor: this.lastCursor };
    this.lastCursor = line.cursor;
    const group = this.groups.get(stream);
    const out: JoinedRecord<L>[] = [];
    joiner.push(line, this.clock.monotonicNow(), out);
    if (!joiner.pending) this.groups.delete(stream);
    else if (joiner.pendingFirst === line) this.groups.set(stream, before);
    const ok = this.emit(
      out.map((record) => ({
        stream,
        record,
        // A record either is the group that was pending or begins with this line.
        before: record.first === line ? before : (group as Before<C>),
      })),
    );
    if (this.groups.size > 0) this.arm();
    return ok;
  }

  flush(): void {
    if (this.closed) return;
    this.flushWhere(() => true, 'flush');
  }

  close(): void {
    this.closed = true;
    for (const j of this.joiners.values()) j.clear();
    this.groups.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Emit the pending records of the streams `due` selects, oldest first. */
  private flushWhere(
    due: (j: MultilineJoiner<L>) => boolean,
    reason: 'timeout' | 'flush',
  ): void {
    const batch: Pending<C, L>[] = [];
    for (const [stream, before] of [...this.groups].sort(
      (a, b) => a[1].seq - b[1].seq,
    )) {
      const joiner = this.joiners.get(stream) as MultilineJoiner<L>;
      if (!due(joiner)) continue;
      const out: JoinedRecord<L>[] = [];
      joiner.flush(out, reason);
      this.groups.delete(stream);
      for (const record of out) batch.push({ stream, record, before });
    }
    this.emit(batch);
  }

  private emit(batch: readonly Pending<C, L>[]): boolean {
    let ok = true;
    for (let i = 0; i < batch.length; i++) {
      const { stream, record } = batch[i] as Pending<C, L>;
      // The earliest line not emitted by the end of this record.
      let bound: Before<C> | undefined;
      for (const g of this.groups.values())
        if (bound === undefined || g.seq < bound.seq) bound = g;
      for (let j = i + 1; j < batch.length; j++) {
        const b = (batch[j] as Pending<C, L>).before;
        if (bound === undefined || b.seq < bound.seq) bound = b;
      }
      const cursor = bound === undefined ? this.lastCursor : bound.cursor;
      if (this.options.onRecord({ ...record, stream, cursor }) === false)
        ok = false;
    }
    this.metrics.count(batch.map((p) => p.record));
    return ok;
  }

  /** Make sure the timer fires by the earliest due flush. */
  private arm(): void {
    let due = Infinity;
    for (const stream of this.groups.keys())
      due = Math.min(
        due,
        (this.joiners.get(stream) as MultilineJoiner<L>).flushDueAtMs,
      );
    if (due === Infinity || this.timerDueAt <= due) return;
    this.schedule(due);
  }

  private schedule(due: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDueAt = due;
    this.timer = this.clock.setTimeout(
      () => this.onTimer(),
      Math.max(0, due - this.clock.monotonicNow()),
    );
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    if (this.closed) return;
    if (this.options.isBehind?.() === true) {
      this.schedule(
        this.clock.monotonicNow() + Math.max(this.config.flushTimeoutMs, 10),
      );
      return;
    }
    const now = this.clock.monotonicNow();
    try {
      this.flushWhere((j) => j.flushDueAtMs <= now, 'timeout');
    } catch (error) {
      if (this.options.onError === undefined) throw error;
      this.options.onError(error);
    } finally {
      if (!this.closed && this.groups.size > 0) this.arm();
    }
  }
}
