import type { Labels } from '@lc/core';
import { decodeUtf8 } from '../../file/internal/line-splitter.js';
import type {
  LongLinePolicy,
  SplitLine,
  SplitterCounters,
} from '../../file/internal/line-splitter.js';
import type { LineStage, RawLine } from '../../file/internal/line-stage.js';
import type { CriMultiline } from '../../kubernetes/internal/cri-multiline.js';
import type { DockerJsonFields } from '../docker-json-line.js';
import { DockerJsonLineParser } from '../docker-json-line.js';

/** Record labels of one container: per stream, and for lines that are not json-file. */
export interface ContainerLabelSets {
  readonly base: Labels;
  readonly stdout: Labels;
  readonly stderr: Labels;
}

/**
 * Where a container's log resumes when it was read through the engine API
 * before (switching from `api` to `files`): entries with a time before
 * `timestampMs`/`timestampNanos` were read, and so were the first `lines`
 * entries at or after it. Shared by the container's files (a rotation may
 * fall inside the window), consumed as entries are skipped.
 */
export interface ApiResumePoint {
  readonly timestampMs: number;
  readonly timestampNanos: number;
  /** Entries at or after the time still to skip. */
  lines: number;
  /** True once an entry past the resume point was read: nothing more is skipped. */
  passed: boolean;
}

/** What a {@link JsonFileStage} needs from its source. */
export interface JsonFileStageContext {
  /** Longest message kept, bytes (a joined line included). */
  readonly maxLineBytes: number;
  readonly policy: LongLinePolicy;
  /** The file monitor's long-line counters (`lc_file_long_lines_total`). */
  readonly counters: SplitterCounters;
  /** The container's label sets; read for every record (set once its config was read). */
  readonly labels: () => ContainerLabelSets;
  /** False while the container is excluded by the filters: its lines are read and dropped. */
  readonly captured: () => boolean;
  /** Lines joined from partial entries, and partial lines emitted unterminated. */
  readonly onJoined: () => void;
  readonly onUnterminated: () => void;
  /** A line that is not a json-file entry, at `offset`: counted and logged by the source. */
  readonly malformed: (offset: number, line: string) => void;
  /** The API mode's resume point, when the container was read through the API before. */
  readonly apiResume?: () => ApiResumePoint | undefined;
  /** Joins messages into multiline records, per stream, after the partial join. */
  readonly multiline?: CriMultiline;
}

const STREAMS = ['stdout', 'stderr', 'raw'] as const;

/** The partial entries of one stream waiting for the one that ends the line. */
class Fragments {
  holding = false;
  parts: string[] = [];
  /** UTF-8 bytes kept (at most the limit in all). */
  kept = 0;
  over = false;
  startOffset = 0;
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
 * Decodes Docker json-file lines of one container log file
 * (`{"log","stream","time"}`): the record's time is the entry's (with
 * nanoseconds), its labels carry `stream`, and the partial entries Docker
 * writes for a line longer than 16 KiB (a `log` without newline) are joined
 * per stream with the entry that ends the line, up to `maxLineBytes` (then
 * the long-line policy). A line that is not json-file is passed through as
 * it is, without a stream label, and reported.
 *
 * Cursors follow the line-stage rule: while a stream holds partial
 * entries, records of the other stream carry the start of the earliest
 * held entry, so a resume from any committed cursor reads them again.
 */
export class JsonFileStage implements LineStage {
  private readonly ctx: JsonFileStageContext;
  private readonly parser = new DockerJsonLineParser();
  private readonly fields: DockerJsonFields = {
    text: '',
    partial: false,
    stream: 0,
    timestampMs: 0,
    timestampNanos: 0,
  };
  private readonly streams = [new Fragments(), new Fragments()] as const;

  constructor(ctx: JsonFileStageContext) {
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
    if (!this.ctx.captured()) {
      // Excluded by the filters: nothing of it is delivered, so nothing is
      // decoded (a node's other containers cost a newline search per line).
      if (this.heldFrom !== undefined) this.reset();
      return;
    }
    const f = this.fields;
    const { buf, start, end } = line;
    if (line.truncated || !this.parser.parseInto(buf, start, end, f)) {
      // Not an entry (or longer than the splitter keeps: not parseable).
      const text = decodeUtf8(buf, start, end, this.ctx.counters);
      this.ctx.malformed(line.startOffset, text.slice(0, 256));
      if (this.ctx.captured())
        this.record(
          out,
          line.startOffset,
          line.endOffset,
          line.lineNo,
          this.capped(text),
          line.truncated || line.bytes > this.ctx.maxLineBytes,
          undefined,
          2,
        );
      return;
    }
    if (this.skipForApi(f)) return;
    const s = this.streams[f.stream];
    if (!f.partial && !s.holding) {
      const text = this.capped(f.text);
      if (text !== undefined)
        this.record(
          out,
          line.startOffset,
          line.endOffset,
          line.lineNo,
          text,
          text.length !== f.text.length,
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
    this.add(s, f.text);
    s.lastEndOffset = line.endOffset;
    s.lastLineNo = line.lineNo;
    if (f.partial) return;
    this.ctx.onJoined();
    this.emitHeld(out, s, f.stream, line.endOffset, line.lineNo);
  }

  flush(out: SplitLine[]): void {
    // Earliest first, so cursors stay in file order.
    const [a, b] = this.streams;
    const order: readonly (readonly [Fragments, 0 | 1])[] =
      a.holding && b.holding && b.startOffset < a.startOffset
        ? [
            [b, 1],
            [a, 0],
          ]
        : [
            [a, 0],
            [b, 1],
          ];
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

  /** True when the entry was read through the API already (see `ApiResumePoint`). */
  private skipForApi(f: DockerJsonFields): boolean {
    const r = this.ctx.apiResume?.();
    if (r === undefined || r.passed) return false;
    const before =
      f.timestampMs < r.timestampMs ||
      (f.timestampMs === r.timestampMs && f.timestampNanos < r.timestampNanos);
    if (before) return true;
    if (r.lines > 0) {
      r.lines--;
      return true;
    }
    r.passed = true;
    return false;
  }

  /** `text` under the long-line policy: undefined when it is skipped. */
  private capped(text: string): string | undefined {
    const max = this.ctx.maxLineBytes;
    // Bytes ≥ characters: only a long text can be over.
    if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return text;
    if (this.ctx.policy === 'skip') {
      this.ctx.counters.skippedLines++;
      return undefined;
    }
    this.ctx.counters.truncatedLines++;
    return cutToBytes(text, max);
  }

  private add(s: Fragments, text: string): void {
    const room = this.ctx.maxLineBytes - s.kept;
    const bytes = Buffer.byteLength(text);
    if (bytes > room) {
      s.over = true;
      if (room > 0) {
        const part = cutToBytes(text, room);
        s.parts.push(part);
        s.kept += Buffer.byteLength(part);
      }
      return;
    }
    s.parts.push(text);
    s.kept += bytes;
  }

  private emitHeld(
    out: SplitLine[],
    s: Fragments,
    stream: 0 | 1,
    endOffset: number,
    lineNo: number,
  ): void {
    const text = s.parts.join('');
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
    this.record(out, startOffset, endOffset, lineNo, text, over, time, stream);
  }

  private record(
    out: SplitLine[],
    startOffset: number,
    endOffset: number,
    lineNo: number,
    text: string | undefined,
    truncated: boolean,
    time:
      | { readonly timestampMs: number; readonly timestampNanos: number }
      | undefined,
    stream: 0 | 1 | 2,
  ): void {
    if (text === undefined || !this.ctx.captured()) return;
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

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes (whole characters). */
function cutToBytes(text: string, maxBytes: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= maxBytes) return text;
  let i = maxBytes;
  while (i > 0 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return buf.toString('utf8', 0, i);
}
