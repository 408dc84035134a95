import type { Labels } from '@lc/core';
import { decodeUtf8 } from '../../file/internal/line-splitter.js';
import type {
  LongLinePolicy,
  SplitLine,
  SplitterCounters,
} from '../../file/internal/line-splitter.js';
import type { LineStage, RawLine } from '../../file/internal/line-stage.js';
import type { CriFields } from '../cri-parser.js';
import { CriLineParser } from '../cri-parser.js';
import type { CriMultiline } from './cri-multiline.js';
import type { KubernetesMetrics } from './kubernetes-metrics.js';
import type { PodLabels } from './pod-labels.js';

/** What a {@link CriStage} needs from its source. */
export interface CriStageContext {
  readonly path: string;
  /** Longest message kept, bytes (a joined line included). */
  readonly maxLineBytes: number;
  readonly policy: LongLinePolicy;
  /** The file monitor's long-line counters (`lc_file_long_lines_total`). */
  readonly counters: SplitterCounters;
  readonly metrics: Pick<
    KubernetesMetrics,
    'joinedLines' | 'unterminatedLines' | 'excludedLines'
  >;
  /** The file is excluded (its pod opted out): every line is dropped, counted. */
  readonly excluded?: () => boolean;
  /** The file's label sets; read for every record (they are set once the file is prepared). */
  readonly labels: () => PodLabels;
  /** A line that is not CRI, at `offset` of the file: counted and logged by the source. */
  readonly malformed: (offset: number, line: string) => void;
  /** Joins messages into multiline records, per stream, after the `P`/`F` join. */
  readonly multiline?: CriMultiline;
}

/** Stream names for multiline joining; lines that are not CRI are joined apart. */
const STREAMS = ['stdout', 'stderr', 'raw'] as const;

/** The `P` fragments of one stream waiting for their `F`. */
class Fragments {
  holding = false;
  /** Copies of the message bytes kept (at most the limit in all). */
  parts: Buffer[] = [];
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

  /** The kept bytes as one buffer. */
  joined(): Buffer {
    return this.parts.length === 1
      ? (this.parts[0] as Buffer)
      : Buffer.concat(this.parts, this.kept);
  }
}

/**
 * Decodes CRI lines (`<time> <stream> <P|F> <message>`) of one pod log
 * file: the record's time is the line's (with nanoseconds), its labels
 * carry `stream`, and `P` fragments are joined with the `F` that ends
 * them, per stream (stdout and stderr fragments interleave), as bytes (a
 * runtime may split a line inside a UTF-8 character), up to
 * `maxLineBytes` (then the long-line policy). A line that is not CRI is
 * passed through as it is, without a stream label.
 *
 * Cursors: a joined record ends at its `F`. While a stream holds
 * fragments, records of the other stream carry the start of the earliest
 * held fragment instead of their own end, so a resume from any committed
 * cursor reads every held fragment again (the interleaved lines may then
 * be delivered twice, never lost).
 *
 * With `multiline`, the joined messages of each stream are then joined
 * into multiline records (see `CriMultiline`); their pending lines are
 * held like fragments.
 */
export class CriStage implements LineStage {
  private readonly ctx: CriStageContext;
  private readonly parser = new CriLineParser();
  private readonly fields: CriFields = {
    timestampMs: 0,
    timestampNanos: 0,
    stream: 0,
    partial: false,
    prefixLength: 0,
  };
  private readonly streams = [new Fragments(), new Fragments()] as const;

  constructor(ctx: CriStageContext) {
    this.ctx = ctx;
  }

  get heldFrom(): number | undefined {
    let from = this.ctx.multiline?.heldFrom;
    for (const s of this.streams)
      if (s.holding && (from === undefined || s.startOffset < from))
        from = s.startOffset;
    return from;
  }

  push(line: RawLine, out: SplitLine[]): void {
    if (this.ctx.excluded?.() === true) {
      this.ctx.metrics.excludedLines.inc();
      return;
    }
    const f = this.fields;
    const { buf, start, end } = line;
    if (!this.parser.parseInto(buf, start, end, f)) {
      const text = this.decodeCapped(
        buf,
        start,
        end,
        line.bytes,
        line.truncated,
      );
      this.ctx.malformed(
        line.startOffset,
        text ?? buf.toString('utf8', start, Math.min(end, start + 256)),
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
      return;
    }
    const s = this.streams[f.stream];
    const from = start + f.prefixLength;
    const bytes = line.bytes - f.prefixLength;
    if (!f.partial && !s.holding) {
      // A whole line: its message as it is.
      const text = this.decodeCapped(buf, from, end, bytes, line.truncated);
      if (text !== undefined)
        this.record(
          out,
          line.startOffset,
          line.endOffset,
          line.lineNo,
          text,
          line.truncated || bytes > this.ctx.maxLineBytes,
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
    this.add(s, buf, from, end, bytes, line.truncated);
    s.lastEndOffset = line.endOffset;
    s.lastLineNo = line.lineNo;
    if (f.partial) return;
    // The F: one record of every fragment, at the time of the first.
    this.ctx.metrics.joinedLines.inc();
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
      this.ctx.metrics.unterminatedLines.inc();
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

  private streamLabels(stream: 0 | 1 | 2): Labels {
    const l = this.ctx.labels();
    return stream === 0 ? l.stdout : stream === 1 ? l.stderr : l.base;
  }

  /** Keep a fragment's bytes, up to the limit in all (cut at a character start). */
  private add(
    s: Fragments,
    buf: Buffer,
    from: number,
    to: number,
    bytes: number,
    cut: boolean,
  ): void {
    const room = this.ctx.maxLineBytes - s.kept;
    if (cut || bytes > room) s.over = true;
    const take = Math.min(to - from, Math.max(0, room));
    if (take <= 0) return;
    const end = take < to - from ? charStart(buf, from, from + take) : to;
    s.parts.push(Buffer.from(buf.subarray(from, end)));
    s.kept += end - from;
  }

  /** One record of the fragments `s` holds (then released), ending at `endOffset`. */
  private emitHeld(
    out: SplitLine[],
    s: Fragments,
    stream: 0 | 1,
    endOffset: number,
    lineNo: number,
  ): void {
    const bytes = s.joined();
    const over = s.over;
    const startOffset = s.startOffset;
    const time = {
      timestampMs: s.timestampMs,
      timestampNanos: s.timestampNanos,
    };
    s.clear();
    if (over) {
      if (this.ctx.policy === 'skip') {
        this.ctx.counters.skippedLines++;
        return;
      }
      this.ctx.counters.truncatedLines++;
    }
    const text = decodeUtf8(bytes, 0, bytes.length, this.ctx.counters);
    this.record(out, startOffset, endOffset, lineNo, text, over, time, stream);
  }

  /**
   * The text of `buf[from, to)` under the long-line policy (`bytes` is its
   * real length): undefined when it is skipped.
   */
  private decodeCapped(
    buf: Buffer,
    from: number,
    to: number,
    bytes: number,
    cut: boolean,
  ): string | undefined {
    const max = this.ctx.maxLineBytes;
    if (!cut && bytes <= max)
      return decodeUtf8(buf, from, to, this.ctx.counters);
    if (this.ctx.policy === 'skip') {
      this.ctx.counters.skippedLines++;
      return undefined;
    }
    this.ctx.counters.truncatedLines++;
    const end = to - from > max ? charStart(buf, from, from + max) : to;
    return decodeUtf8(buf, from, end, this.ctx.counters);
  }

  /**
   * A message from `startOffset` to `endOffset` of the file, of `stream`
   * (2: not CRI), as a line: to `out`, or through multiline joining.
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
    const labels = this.streamLabels(stream);
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

/**
 * The last character start at or before `at` in `buf` (not before
 * `from`): a cut there does not split a UTF-8 sequence.
 */
function charStart(buf: Buffer, from: number, at: number): number {
  let i = at;
  while (i > from && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return i;
}
