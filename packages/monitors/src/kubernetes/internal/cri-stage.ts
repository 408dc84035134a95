import type { Labels } from '@lc/core';
import type {
  LongLinePolicy,
  SplitLine,
  SplitterCounters,
} from '../../file/internal/line-splitter.js';
import type { LineStage, RawLine } from '../../file/internal/line-stage.js';
import type { CriFields } from '../cri-parser.js';
import { CriLineParser } from '../cri-parser.js';
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
    'joinedLines' | 'unterminatedLines'
  >;
  /** The file's label sets; read for every record (they are set once the file is prepared). */
  readonly labels: () => PodLabels;
  /** A line that is not CRI, at `offset` of the file: counted and logged by the source. */
  readonly malformed: (offset: number, line: string) => void;
}

/** The `P` fragments of one stream waiting for their `F`. */
class Fragments {
  holding = false;
  parts: string[] = [];
  /** Message bytes kept in `parts` (at most the limit). */
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
 * Decodes CRI lines (`<time> <stream> <P|F> <message>`) of one pod log
 * file: the record's time is the line's (with nanoseconds), its labels
 * carry `stream`, and `P` fragments are joined with the `F` that ends
 * them, per stream (stdout and stderr fragments interleave), up to
 * `maxLineBytes` (then the long-line policy). A line that is not CRI is
 * passed through as it is, without a stream label.
 *
 * Cursors: a joined record ends at its `F`. While a stream holds
 * fragments, records of the other stream carry the start of the earliest
 * held fragment instead of their own end, so a resume from any committed
 * cursor reads every held fragment again (the interleaved lines may then
 * be delivered twice, never lost).
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
    const [a, b] = this.streams;
    if (a.holding)
      return b.holding ? Math.min(a.startOffset, b.startOffset) : a.startOffset;
    return b.holding ? b.startOffset : undefined;
  }

  push(line: RawLine, out: SplitLine[]): void {
    const f = this.fields;
    const text = line.text;
    if (!this.parser.parseInto(text, f)) {
      this.ctx.malformed(line.startOffset, text);
      this.emit(
        out,
        line.endOffset,
        line.lineNo,
        text,
        line.bytes,
        line.truncated,
        undefined,
        this.ctx.labels().base,
      );
      return;
    }
    const s = this.streams[f.stream];
    const bytes = line.bytes - f.prefixLength;
    if (f.partial || s.holding) {
      if (!s.holding) {
        s.holding = true;
        s.startOffset = line.startOffset;
        s.startLineNo = line.lineNo - 1;
        s.timestampMs = f.timestampMs;
        s.timestampNanos = f.timestampNanos;
      }
      this.add(s, text.slice(f.prefixLength), bytes, line.truncated);
      s.lastEndOffset = line.endOffset;
      s.lastLineNo = line.lineNo;
      if (f.partial) return;
      // The F: one record of every fragment, at the time of the first.
      const joined =
        s.parts.length === 1 ? (s.parts[0] as string) : s.parts.join('');
      const over = s.over;
      const ts = { ms: s.timestampMs, nanos: s.timestampNanos };
      s.clear();
      this.ctx.metrics.joinedLines.inc();
      this.emitJoined(out, line, joined, over, ts.ms, ts.nanos, f.stream);
      return;
    }
    const message =
      f.prefixLength >= text.length ? '' : text.slice(f.prefixLength);
    this.emit(
      out,
      line.endOffset,
      line.lineNo,
      message,
      bytes,
      line.truncated,
      f,
      this.streamLabels(f.stream),
    );
  }

  flush(out: SplitLine[]): void {
    // Earliest first, so cursors stay in file order.
    const order = [...this.streams]
      .filter((s) => s.holding)
      .sort((a, b) => a.startOffset - b.startOffset);
    for (const s of order) {
      const stream = s === this.streams[0] ? 0 : 1;
      const joined = s.parts.join('');
      const over = s.over;
      const at = { end: s.lastEndOffset, lineNo: s.lastLineNo };
      const ts = { ms: s.timestampMs, nanos: s.timestampNanos };
      s.clear();
      this.ctx.metrics.unterminatedLines.inc();
      this.emitJoined(
        out,
        { endOffset: at.end, lineNo: at.lineNo },
        joined,
        over,
        ts.ms,
        ts.nanos,
        stream,
      );
    }
  }

  reset(): void {
    this.streams[0].clear();
    this.streams[1].clear();
  }

  private streamLabels(stream: 0 | 1): Labels {
    const l = this.ctx.labels();
    return stream === 0 ? l.stdout : l.stderr;
  }

  private add(
    s: Fragments,
    message: string,
    bytes: number,
    cut: boolean,
  ): void {
    const max = this.ctx.maxLineBytes;
    if (cut) s.over = true;
    if (s.kept >= max) {
      s.over = true;
      return;
    }
    if (s.kept + bytes <= max && !cut) {
      s.parts.push(message);
      s.kept += bytes;
      return;
    }
    s.over = true;
    const room = max - s.kept;
    s.parts.push(cutUtf8(message, room));
    s.kept = max;
  }

  private emitJoined(
    out: SplitLine[],
    at: { readonly endOffset: number; readonly lineNo: number },
    text: string,
    over: boolean,
    timestampMs: number,
    timestampNanos: number,
    stream: 0 | 1,
  ): void {
    if (over) {
      if (this.ctx.policy === 'skip') {
        this.ctx.counters.skippedLines++;
        return;
      }
      this.ctx.counters.truncatedLines++;
    }
    this.push1(
      out,
      at.endOffset,
      at.lineNo,
      text,
      over,
      timestampMs,
      timestampNanos,
      this.streamLabels(stream),
    );
  }

  /** A single line's message: the long-line policy, then one record. */
  private emit(
    out: SplitLine[],
    endOffset: number,
    lineNo: number,
    message: string,
    bytes: number,
    cut: boolean,
    time: CriFields | undefined,
    labels: Labels,
  ): void {
    const max = this.ctx.maxLineBytes;
    let text = message;
    const over = cut || bytes > max;
    if (over) {
      if (this.ctx.policy === 'skip') {
        this.ctx.counters.skippedLines++;
        return;
      }
      this.ctx.counters.truncatedLines++;
      text = cutUtf8(message, max);
    }
    if (time === undefined) {
      this.push1(
        out,
        endOffset,
        lineNo,
        text,
        over,
        undefined,
        undefined,
        labels,
      );
      return;
    }
    this.push1(
      out,
      endOffset,
      lineNo,
      text,
      over,
      time.timestampMs,
      time.timestampNanos,
      labels,
    );
  }

  private push1(
    out: SplitLine[],
    endOffset: number,
    lineNo: number,
    text: string,
    truncated: boolean,
    timestampMs: number | undefined,
    timestampNanos: number | undefined,
    labels: Labels,
  ): void {
    // Never past a fragment still held: a resume must read it again.
    let end = endOffset;
    let no = lineNo;
    for (const s of this.streams) {
      if (s.holding && s.startOffset < end) {
        end = s.startOffset;
        no = s.startLineNo;
      }
    }
    out.push(
      timestampMs === undefined
        ? { text, endOffset: end, lineNo: no, truncated, labels }
        : {
            text,
            endOffset: end,
            lineNo: no,
            truncated,
            timestampMs,
            timestampNanos: timestampNanos ?? 0,
            labels,
          },
    );
  }
}

/** The longest prefix of `s` that is at most `maxBytes` UTF-8 bytes, cut at a character boundary. */
export function cutUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  const b = Buffer.from(s, 'utf8');
  if (b.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && ((b[end] as number) & 0xc0) === 0x80) end--;
  return b.toString('utf8', 0, end);
}
