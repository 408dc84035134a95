import { isUtf8 } from 'node:buffer';
import type { Labels } from '@lc/core';
import type { LineStage, RawLine } from './line-stage.js';

/** Encodings the file monitor decodes. */
export type FileEncoding = 'utf8' | 'utf16le' | 'latin1';

/** What to do with a line longer than `maxLineBytes`. */
export type LongLinePolicy = 'truncate' | 'skip';

/** A decoded line and where it ends in the file. */
export interface SplitLine {
  readonly text: string;
  /** Byte offset just past the line and its newline. */
  readonly endOffset: number;
  /** 1-based line number within the file identity. */
  readonly lineNo: number;
  /** True when the line was cut at `maxLineBytes`. */
  readonly truncated: boolean;
  /**
   * Record timestamp carried by the line's format (a CRI line's own
   * time), ms and nanoseconds within it; the read time when absent.
   */
  readonly timestampMs?: number;
  readonly timestampNanos?: number;
  /** The record's labels when the format sets them (a CRI line's stream); the file's when absent. */
  readonly labels?: Labels;
}

/** Counters a splitter accumulates; the monitor turns them into metrics. */
export interface SplitterCounters {
  truncatedLines: number;
  skippedLines: number;
  invalidChars: number;
}

const NL = 0x0a;
const CR = 0x0d;
const REPLACEMENT = '\uFFFD';
const EMPTY = Buffer.alloc(0);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Splits chunks of a file into lines without re-reading: bytes after the
 * last newline are held (copied) until the next chunk completes them. A line
 * longer than `maxLineBytes` keeps only its first `maxLineBytes` bytes in
 * memory whatever its real length, so a 10 MB line costs at most that much.
 */
export class LineSplitter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes of the current line seen, including those not held (overflow). */
  private lineBytes = 0;
  /** File offset just past the last byte fed. */
  private offset: number;
  private lineNo: number;

  private readonly encoding: FileEncoding;
  private readonly maxLineBytes: number;
  private readonly policy: LongLinePolicy;
  /** Decodes complete lines (see {@link LineStage}); it applies the long-line policy itself. */
  private readonly stage: LineStage | undefined;
  private readonly raw: Mutable<RawLine> = {
    buf: EMPTY,
    start: 0,
    end: 0,
    bytes: 0,
    truncated: false,
    startOffset: 0,
    endOffset: 0,
    lineNo: 0,
  };
  readonly counters: SplitterCounters;

  constructor(
    encoding: FileEncoding,
    maxLineBytes: number,
    policy: LongLinePolicy,
    counters: SplitterCounters,
    startOffset: number,
    startLineNo: number,
    stage?: LineStage,
  ) {
    this.encoding = encoding;
    this.maxLineBytes = maxLineBytes;
    this.policy = policy;
    this.counters = counters;
    this.offset = startOffset;
    this.lineNo = startLineNo;
    this.stage = stage;
  }

  /** File offset just past the bytes fed so far (includes a held partial line). */
  get fedOffset(): number {
    return this.offset;
  }

  /**
   * File offset where the held partial line starts, or the earliest line
   * the stage holds (= fedOffset when none).
   */
  get lineStartOffset(): number {
    const held = this.stage?.heldFrom;
    const partial = this.offset - this.lineBytes;
    return held === undefined ? partial : Math.min(held, partial);
  }

  /** Line number of the last complete line. */
  get lastLineNo(): number {
    return this.lineNo;
  }

  /** Bytes held back: an incomplete last line, and lines the stage holds. */
  get partialBytes(): number {
    return this.offset - this.lineStartOffset;
  }

  /**
   * Feed bytes that follow the previous chunk; complete lines go to `out`.
   * Returns the bytes consumed: all of them, except for UTF-16LE where an
   * odd last byte is left for the next chunk (feed it again).
   */
  feed(chunk: Buffer, out: SplitLine[]): number {
    const utf16 = this.encoding === 'utf16le';
    let pos = 0;
    const len = utf16 ? chunk.length & ~1 : chunk.length;
    while (pos < len) {
      let nl = chunk.indexOf(NL, pos);
      if (utf16) {
        // A UTF-16LE newline is 0A 00 at an even offset of the line.
        while (
          nl !== -1 &&
          ((this.lineBytes + nl - pos) % 2 !== 0 || chunk[nl + 1] !== 0)
        ) {
          nl = chunk.indexOf(NL, nl + 1);
        }
      }
      if (nl === -1 || nl >= len) {
        this.hold(chunk, pos, len);
        this.offset += len - pos;
        return len;
      }
      const end = utf16 ? nl + 2 : nl + 1;
      this.offset += end - pos;
      this.emit(chunk, pos, nl, end - pos, out);
      pos = end;
    }
    return len;
  }

  /**
   * Emit the held partial line as a complete line (the file was rotated,
   * deleted or truncated and it will never be completed). No-op when none.
   */
  flushPartial(out: SplitLine[]): void {
    if (this.lineBytes > 0) this.emit(Buffer.alloc(0), 0, 0, 0, out);
    this.stage?.flush(out);
  }

  /** Drop the held partial line and restart at `offset` (truncation). */
  reset(offset: number, lineNo: number): void {
    this.held = [];
    this.heldBytes = 0;
    this.lineBytes = 0;
    this.offset = offset;
    this.lineNo = lineNo;
    this.stage?.reset();
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    const room = this.maxLineBytes - this.heldBytes;
    const take = Math.min(room, end - start);
    if (take > 0) {
      this.held.push(Buffer.from(chunk.subarray(start, start + take)));
      this.heldBytes += take;
    }
    this.lineBytes += end - start;
  }

  private emit(
    chunk: Buffer,
    start: number,
    nlIndex: number,
    consumed: number,
    out: SplitLine[],
  ): void {
    const totalLine = this.lineBytes + (nlIndex - start);
    const startOffset = this.offset - this.lineBytes - consumed;
    this.lineNo++;
    const tooLong = totalLine > this.maxLineBytes;
    let bytes: Buffer;
    let bStart: number;
    let bEnd: number;
    if (this.held.length === 0) {
      bytes = chunk;
      bStart = start;
      bEnd = nlIndex;
    } else {
      const room = this.maxLineBytes - this.heldBytes;
      if (room > 0 && nlIndex > start) {
        this.held.push(
          chunk.subarray(start, start + Math.min(room, nlIndex - start)),
        );
      }
      bytes =
        this.held.length === 1
          ? (this.held[0] as Buffer)
          : Buffer.concat(this.held);
      bStart = 0;
      bEnd = bytes.length;
    }
    this.held = [];
    this.heldBytes = 0;
    this.lineBytes = 0;
    if (this.stage !== undefined) {
      // The stage decodes the line's format from its bytes and applies
      // the long-line policy to what it keeps. One object for every line
      // (valid only during `push`): no allocation per line.
      const raw = this.raw;
      raw.buf = bytes;
      raw.start = bStart;
      raw.end = tooLong ? Math.min(bEnd, bStart + this.maxLineBytes) : bEnd;
      raw.bytes = totalLine;
      raw.truncated = tooLong;
      raw.startOffset = startOffset;
      raw.endOffset = this.offset;
      raw.lineNo = this.lineNo;
      this.stage.push(raw, out);
      // Not kept past the line: a chunk is not held alive by it.
      raw.buf = EMPTY;
      return;
    }
    if (tooLong) {
      if (this.policy === 'skip') {
        this.counters.skippedLines++;
        return;
      }
      this.counters.truncatedLines++;
      bEnd = Math.min(bEnd, bStart + this.maxLineBytes);
    } else if (this.encoding === 'utf16le') {
      if (bEnd - bStart >= 2 && bytes[bEnd - 2] === CR && bytes[bEnd - 1] === 0)
        bEnd -= 2;
    } else if (bEnd > bStart && bytes[bEnd - 1] === CR) {
      bEnd--;
    }
    const text = this.decode(bytes, bStart, bEnd);
    out.push({
      text,
      endOffset: this.offset,
      lineNo: this.lineNo,
      truncated: tooLong,
    });
  }

  private decode(bytes: Buffer, start: number, end: number): string {
    if (this.encoding === 'latin1') return bytes.toString('latin1', start, end);
    if (this.encoding === 'utf16le') {
      if ((end - start) % 2 === 1) {
        this.counters.invalidChars++;
        return `${bytes.toString('utf16le', start, end - 1)}${REPLACEMENT}`;
      }
      return bytes.toString('utf16le', start, end);
    }
    return decodeUtf8(bytes, start, end, this.counters);
  }
}

/**
 * `bytes[start, end)` as UTF-8 text; invalid sequences become U+FFFD and
 * are counted in `counters.invalidChars`.
 */
export function decodeUtf8(
  bytes: Buffer,
  start: number,
  end: number,
  counters: SplitterCounters,
): string {
  const text = bytes.toString('utf8', start, end);
  if (text.includes(REPLACEMENT) && !isUtf8(bytes.subarray(start, end))) {
    counters.invalidChars +=
      countReplacements(text) - countLiteral(bytes, start, end);
  }
  return text;
}

function countReplacements(text: string): number {
  let n = 0;
  for (
    let i = text.indexOf(REPLACEMENT);
    i !== -1;
    i = text.indexOf(REPLACEMENT, i + 1)
  )
    n++;
  return n;
}

/** U+FFFD written literally in the file (EF BF BD) is not an invalid byte. */
function countLiteral(bytes: Buffer, start: number, end: number): number {
  let n = 0;
  const needle = Buffer.from([0xef, 0xbf, 0xbd]);
  for (
    let i = bytes.indexOf(needle, start);
    i !== -1 && i + 3 <= end;
    i = bytes.indexOf(needle, i + 3)
  )
    n++;
  return n;
}
