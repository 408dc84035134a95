import type { Clock, MetricsRegistry } from '@lc/core';
import type { SplitLine } from '../../file/internal/line-splitter.js';
import type { MultilineOptions } from '../../multiline/multiline-options.js';
import type {
  MultilineStreams,
  StreamLine,
  StreamRecord,
} from '../../multiline/multiline-streams.js';
import { createMultilineStreams } from '../../multiline/multiline-streams.js';

/** A file position as multiline streams carry it. */
interface FileCursor {
  readonly offset: number;
  readonly lineNo: number;
}

interface JoinLine extends StreamLine<FileCursor> {
  readonly line: SplitLine;
}

/** What a {@link CriMultiline} needs from its source. */
export interface CriMultilineContext {
  /** How lines are joined (validated by the source's options). */
  readonly multiline: MultilineOptions;
  readonly clock: Clock;
  /** Where `lc_multiline_flushes_total{source="kubernetes"}` is counted. */
  readonly registry: MetricsRegistry | undefined;
  /** Records the flush timer completes (outside `push` and `flush`). */
  readonly emit: (lines: SplitLine[]) => void;
  /** True while the file has unread bytes: a due timeout waits. */
  readonly isBehind: () => boolean;
  readonly onError: (error: unknown) => void;
  /** `source` label of the multiline metrics. @default 'kubernetes' */
  readonly source?: string;
}

/**
 * Multiline joining of one pod log file's messages, after the CRI `P`/`F`
 * join: stdout and stderr (and lines that are not CRI) are joined
 * separately by `createMultilineStreams`. A record has its first line's
 * time and labels, and a cursor that never passes a line still pending on
 * any stream, so a crash in the middle of a stack trace reads the whole
 * trace again. Records complete in `push` and `flush` go to their `out`;
 * those the flush timer completes go to `emit`.
 */
export class CriMultiline {
  private readonly ctx: CriMultilineContext;
  private streams: MultilineStreams<FileCursor, JoinLine> | undefined;
  /** Where records go while a push or flush runs; `emit` otherwise. */
  private out: SplitLine[] | undefined;

  constructor(ctx: CriMultilineContext) {
    this.ctx = ctx;
  }

  /** Start offset of the earliest pending line (at most); undefined when none. */
  get heldFrom(): number | undefined {
    return this.streams?.pendingCursor?.offset;
  }

  /**
   * Join `line` (decoded, its cursor never past a held fragment) of
   * `stream`; `startOffset` is where it begins in the file.
   */
  push(
    stream: string,
    line: SplitLine,
    startOffset: number,
    out: SplitLine[],
  ): void {
    // Before the first line: where it starts, or the fragment held from
    // earlier (its cursor was held back to it).
    this.streams ??= this.open({
      offset: Math.min(startOffset, line.endOffset),
      lineNo: Math.max(0, line.lineNo - 1),
    });
    this.out = out;
    try {
      this.streams.push(stream, {
        text: line.text,
        cursor: { offset: line.endOffset, lineNo: line.lineNo },
        line,
      });
    } finally {
      this.out = undefined;
    }
  }

  /** Emit every pending record to `out` (the file ends). */
  flush(out: SplitLine[]): void {
    this.out = out;
    try {
      this.streams?.flush();
    } finally {
      this.out = undefined;
    }
  }

  /** Drop what is pending and the timer (reading restarts, or stops). */
  close(): void {
    this.streams?.close();
    this.streams = undefined;
  }

  private open(
    initialCursor: FileCursor,
  ): MultilineStreams<FileCursor, JoinLine> {
    return createMultilineStreams<FileCursor, JoinLine>({
      multiline: this.ctx.multiline,
      initialCursor,
      clock: this.ctx.clock,
      ...(this.ctx.registry === undefined
        ? {}
        : { registry: this.ctx.registry }),
      source: this.ctx.source ?? 'kubernetes',
      isBehind: this.ctx.isBehind,
      onError: this.ctx.onError,
      onRecord: (r) => {
        const line = toLine(r);
        if (this.out !== undefined) this.out.push(line);
        else this.ctx.emit([line]);
      },
    });
  }
}

/** A joined record as one line: the first line's time and labels, the record's cursor. */
function toLine(r: StreamRecord<FileCursor, JoinLine>): SplitLine {
  const first = r.first.line;
  return {
    ...first,
    text: r.text,
    endOffset: r.cursor.offset,
    lineNo: r.cursor.lineNo,
    truncated: first.truncated || r.last.line.truncated,
  };
}
