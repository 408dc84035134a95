import type { Labels } from '@lc/core';
import { decodeUtf8 } from '../file/internal/line-splitter.js';
import type {
  LongLinePolicy,
  SplitLine,
  SplitterCounters,
} from '../file/internal/line-splitter.js';
import type { LineStage, RawLine } from '../file/internal/line-stage.js';
import type { CriMultiline } from '../kubernetes/internal/cri-multiline.js';
import { charStart } from './utf8-cut.js';

/** Record labels of one container: per stream, and for lines not in its log format. */
export interface ContainerLabelSets {
  readonly base: Labels;
  readonly stdout: Labels;
  readonly stderr: Labels;
}

/** What an entry of a container log format says besides its message. */
export interface ContainerEntryFields {
  /** 0 stdout, 1 stderr. */
  stream: 0 | 1;
  /** The entry is a fragment of a line, continued by the next entry of its stream. */
  partial: boolean;
  /** The runtime's time of the entry, ms since the epoch. */
  timestampMs: number;
  /** Nanoseconds within that millisecond, `[0, 999_999]`. */
  timestampNanos: number;
}

/** What a {@link ContainerLineStage} needs from its source, whatever the format. */
export interface ContainerLineContext {
  /** Longest message kept, bytes (a joined line included). */
  readonly maxLineBytes: number;
  readonly policy: LongLinePolicy;
  /** The file monitor's long-line counters (`lc_file_long_lines_total`). */
  readonly counters: SplitterCounters;
  /** The container's label sets; read for every record. */
  readonly labels: () => ContainerLabelSets;
  /** A line not in the format, at `offset` of the file (its first characters): counted and logged by the source. */
  readonly malformed: (offset: number, line: string) => void;
  /** A line joined from fragments, and fragments emitted unterminated at the end of the file. */
  readonly onJoined: () => void;
  readonly onUnterminated: () => void;
  /** False while records are not to be delivered (they are dropped here). */
  readonly delivered?: () => boolean;
  /** Joins messages into multiline records, per stream, after the fragment join. */
  readonly multiline?: CriMultiline | undefined;
}

/** What a stage's `read` made of a line. */
export type LineRead = 'entry' | 'malformed' | 'dropped';

/** Stream names for multiline joining; lines not in the format are joined apart. */
const STREAMS = ['stdout', 'stderr', 'raw'] as const;
/** Characters of a malformed line passed to `malformed`. */
const MALFORMED_SAMPLE = 256;

/** The fragments of one stream waiting for the entry that ends their line. */
export class HeldFragments<P> {
  holding = false;
  /** Copies of the message kept (at most `maxLineBytes` bytes in all). */
  parts: P[] = [];
  /** Bytes kept. */
  kept = 0;
  /** True once a fragment did not fit (or was cut by the splitter). */
  over = false;
  startOffset = 0;
  /** Line number before the first fragment (the cursor's `line` there). */
  startLineNo = 0;
  lastEndOffset = 0;
  lastLineNo = 0;
  timestampMs = 0;
  timestampNanos = 0;

  clear(): void {
    this.holding = false;
    this.parts = [];
    this.kept = 0;
    this.over = false;
  }
}

/**
 * The part of a container log stage (CRI, Docker json-file) that does not
 * depend on the format: lines not in the format passed through as they
 * are (without a stream label) and reported with their offset; fragments
 * of a line (a format's partial entries) joined per stream (stdout and
 * stderr fragments interleave) with the entry that ends them, at the time
 * of the first, up to `maxLineBytes` (then the long-line policy);
 * records labelled by stream; the optional multiline join after that.
 * A subclass parses its format's entries into `fields` and keeps and
 * decodes their messages (parts of type `P`).
 *
 * Cursors follow the line-stage rule: while a stream holds fragments,
 * records of the other stream carry the start of the earliest held
 * fragment instead of their own end, so a resume from any committed
 * cursor reads every held fragment again (the interleaved lines may then
 * be delivered twice, never lost). With `multiline`, its pending lines
 * are held like fragments.
 */
export abstract class ContainerLineStage<
  F extends ContainerEntryFields,
  P,
> implements LineStage {
  protected readonly ctx: ContainerLineContext;
  /** The entry `parse` reads into (one object for every line). */
  protected readonly fields: F;
  protected readonly streams = [
    new HeldFragments<P>(),
    new HeldFragments<P>(),
  ] as const;
  /** Set by `message`: the message it returned is cut, or it was over the limit. */
  protected cut = false;

  protected constructor(ctx: ContainerLineContext, fields: F) {
    this.ctx = ctx;
    this.fields = fields;
  }

  /**
   * Reads `line` into `f`: `entry`, `malformed` (not an entry of the
   * format), or `dropped` (the source's filters, or read before through
   * another path; counted by the subclass). One call per line: the hot path.
   */
  protected abstract read(line: RawLine, f: F): LineRead;
  /** The message of a whole entry under the long-line policy (undefined: skipped); sets `cut`. */
  protected abstract message(line: RawLine, f: F): string | undefined;
  /** Keeps a fragment's message in `s`, up to the limit in all (sets `over` past it). */
  protected abstract keep(s: HeldFragments<P>, line: RawLine, f: F): void;
  /** The message `s` holds, as one text. */
  protected abstract heldText(s: HeldFragments<P>): string;

  get heldFrom(): number | undefined {
    let from = this.ctx.multiline?.heldFrom;
    for (const s of this.streams)
      if (s.holding && (from === undefined || s.startOffset < from))
        from = s.startOffset;
    return from;
  }

  push(line: RawLine, out: SplitLine[]): void {
    const f = this.fields;
    const read = this.read(line, f);
    if (read !== 'entry') {
      if (read === 'malformed') this.pushMalformed(line, out);
      return;
    }
    const s = this.streams[f.stream];
    if (!f.partial && !s.holding) {
      // A whole line: its message as it is.
      const text = this.message(line, f);
      if (text !== undefined)
        this.record(
          out,
          line.startOffset,
          line.endOffset,
          line.lineNo,
          text,
          this.cut,
          f,
          f.stream,
        );
      return;
    }
    if (!s.holding) {
      s.holding = true;
      s.startOffset = line.startOffset;
      s.startLineNo = line.lineNo - 1;
      s.timestampMs = f.timestampMs;
      s.timestampNanos = f.timestampNanos;
    }
    this.keep(s, line, f);
    s.lastEndOffset = line.endOffset;
    s.lastLineNo = line.lineNo;
    if (f.partial) return;
    // The end of the line: one record of every fragment, at the time of the first.
    this.ctx.onJoined();
    this.emitHeld(out, s, f.stream, line.endOffset, line.lineNo);
  }

  flush(out: SplitLine[]): void {
    // Earliest first, so cursors stay in file order.
    const [a, b] = this.streams;
    const order =
      a.holding && b.holding && b.startOffset < a.startOffset
        ? ([
            [b, 1],
            [a, 0],
          ] as const)
        : ([
            [a, 0],
            [b, 1],
          ] as const);
    for (const [s, stream] of order) {
      if (!s.holding) continue;
      this.ctx.onUnterminated();
      this.emitHeld(out, s, stream, s.lastEndOffset, s.lastLineNo);
    }
    this.ctx.multiline?.flush(out);
  }

  reset(): void {
    this.streams[0].clear();
    this.streams[1].clear();
    this.ctx.multiline?.close();
  }

  close(): void {
    this.ctx.multiline?.close();
  }

  /**
   * A message over `maxLineBytes` under the long-line policy, counted:
   * true when it is kept (cut), false when it is skipped.
   */
  protected keepLong(): boolean {
    if (this.ctx.policy === 'skip') {
      this.ctx.counters.skippedLines++;
      return false;
    }
    this.ctx.counters.truncatedLines++;
    return true;
  }

  /**
   * The text of `buf[from, to)` under the long-line policy (`bytes` is its
   * real length, `cut` when the splitter cut it): undefined when skipped.
   */
  protected decodeCapped(
    buf: Buffer,
    from: number,
    to: number,
    bytes: number,
    cut: boolean,
  ): string | undefined {
    const max = this.ctx.maxLineBytes;
    if (!cut && bytes <= max)
      return decodeUtf8(buf, from, to, this.ctx.counters);
    if (!this.keepLong()) return undefined;
    const end = to - from > max ? charStart(buf, from, from + max) : to;
    return decodeUtf8(buf, from, end, this.ctx.counters);
  }

  /** A line not in the format: reported, and passed through as it is. */
  private pushMalformed(line: RawLine, out: SplitLine[]): void {
    const { buf, start, end } = line;
    const text = this.decodeCapped(buf, start, end, line.bytes, line.truncated);
    this.ctx.malformed(
      line.startOffset,
      text === undefined
        ? buf.toString('utf8', start, Math.min(end, start + MALFORMED_SAMPLE))
        : text.slice(0, MALFORMED_SAMPLE),
    );
    if (text !== undefined)
      this.record(
        out,
        line.startOffset,
        line.endOffset,
        line.lineNo,
        text,
        line.truncated || line.bytes > this.ctx.maxLineBytes,
        undefined,
        2,
      );
  }

  /** One record of the fragments `s` holds (then released), ending at `endOffset`. */
  private emitHeld(
    out: SplitLine[],
    s: HeldFragments<P>,
    stream: 0 | 1,
    endOffset: number,
    lineNo: number,
  ): void {
    const over = s.over;
    if (over && !this.keepLong()) {
      s.clear();
      return;
    }
    const startOffset = s.startOffset;
    const time = {
      timestampMs: s.timestampMs,
      timestampNanos: s.timestampNanos,
    };
    const text = this.heldText(s);
    s.clear();
    this.record(out, startOffset, endOffset, lineNo, text, over, time, stream);
  }

  /**
   * A message from `startOffset` to `endOffset` of the file, of `stream`
   * (2: not in the format), as a line: to `out`, or through multiline joining.
   */
  private record(
    out: SplitLine[],
    startOffset: number,
    endOffset: number,
    lineNo: number,
    text: string,
    truncated: boolean,
    time:
      | { readonly timestampMs: number; readonly timestampNanos: number }
      | undefined,
    stream: 0 | 1 | 2,
  ): void {
    if (this.ctx.delivered?.() === false) return;
    const l = this.ctx.labels();
    const labels = stream === 0 ? l.stdout : stream === 1 ? l.stderr : l.base;
    // Never past a fragment still held: a resume must read it again.
    let end = endOffset;
    let no = lineNo;
    for (const s of this.streams) {
      if (s.holding && s.startOffset < end) {
        end = s.startOffset;
        no = s.startLineNo;
      }
    }
    const line: SplitLine =
      time === undefined
        ? { text, endOffset: end, lineNo: no, truncated, labels }
        : {
            text,
            endOffset: end,
            lineNo: no,
            truncated,
            timestampMs: time.timestampMs,
            timestampNanos: time.timestampNanos,
            labels,
          };
    const multiline = this.ctx.multiline;
    if (multiline === undefined) out.push(line);
    else multiline.push(STREAMS[stream], line, startOffset, out);
  }
}
