import { parseRfc3339Nano } from '@lc/core';

/**
 * One line of Docker's json-file log (`<data_root>/containers/<id>/<id>-json.log`),
 * as the engine writes it: `{"log":"…","stream":"stdout|stderr","time":"<RFC 3339 nano>"}`
 * (an `attrs` object may follow with `--log-opt labels/env`).
 */
export interface DockerJsonFields {
  /** The message without its trailing newline. */
  text: string;
  /**
   * True when `log` did not end with a newline: a chunk of a line longer
   * than 16 KiB (continued by the next entries of the same stream), or
   * output that ended without one.
   */
  partial: boolean;
  /** 0 stdout, 1 stderr. */
  stream: 0 | 1;
  /** The engine's time of the entry, ms since the epoch. */
  timestampMs: number;
  /** Nanoseconds within that millisecond, `[0, 999_999]`. */
  timestampNanos: number;
}

const PREFIX = Buffer.from('{"log":"');
const STREAM_STDOUT = Buffer.from(',"stream":"stdout","time":"');
const STREAM_STDERR = Buffer.from(',"stream":"stderr","time":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const N_LOWER = 0x6e;
const C_0 = 48;
/** `YYYY-MM-DDTHH:MM:SS`: shared by all entries of one second. */
const SECOND_LENGTH = 19;

function startsWith(b: Buffer, i: number, end: number, word: Buffer): boolean {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

/**
 * Parses json-file lines without `JSON.parse` on the common shape (fields
 * in the engine's order), falling back to it for anything else. Keeps the
 * last second's parse, since consecutive entries share it.
 */
export class DockerJsonLineParser {
  private lastSecond = '';
  private lastSecondMs = 0;

  /**
   * Parse `buf[start, end)` (one line without its newline) into `out`.
   * Returns false when it is not a json-file entry.
   */
  parseInto(
    buf: Buffer,
    start: number,
    end: number,
    out: DockerJsonFields,
  ): boolean {
    if (!startsWith(buf, start, end, PREFIX))
      return this.parseSlow(buf, start, end, out);
    const logStart = start + PREFIX.length;
    let i = logStart;
    let firstEscape = -1;
    // The closing quote of `log`: the first quote not escaped.
    while (i < end) {
      const c = buf[i] as number;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        if (firstEscape === -1) firstEscape = i;
        i += 2;
      } else i++;
    }
    if (i >= end) return this.parseSlow(buf, start, end, out);
    const logEnd = i;
    let stream: 0 | 1;
    if (startsWith(buf, logEnd, end, STREAM_STDOUT)) stream = 0;
    else if (startsWith(buf, logEnd, end, STREAM_STDERR)) stream = 1;
    else return this.parseSlow(buf, start, end, out);
    const timeStart = logEnd + STREAM_STDOUT.length;
    const timeEnd = buf.indexOf(QUOTE, timeStart);
    if (timeEnd === -1 || timeEnd >= end)
      return this.parseSlow(buf, start, end, out);
    if (!this.parseTime(buf.toString('latin1', timeStart, timeEnd), out))
      return this.parseSlow(buf, start, end, out);
    out.stream = stream;
    if (firstEscape === -1) {
      // The engine escapes every newline: an unescaped `log` has none.
      out.text = buf.toString('utf8', logStart, logEnd);
      out.partial = true;
      return true;
    }
    if (firstEscape === logEnd - 2 && buf[logEnd - 1] === N_LOWER) {
      // The common line: its only escape is the final newline.
      out.text = buf.toString('utf8', logStart, firstEscape);
      out.partial = false;
      return true;
    }
    let text: string;
    try {
      text = JSON.parse(
        buf.toString('utf8', logStart - 1, logEnd + 1),
      ) as string;
    } catch {
      return this.parseSlow(buf, start, end, out);
    }
    this.setText(text, out);
    return true;
  }

  private setText(text: string, out: DockerJsonFields): void {
    if (text.endsWith('\n')) {
      out.text = text.slice(0, -1);
      out.partial = false;
    } else {
      out.text = text;
      out.partial = true;
    }
  }

  private parseSlow(
    buf: Buffer,
    start: number,
    end: number,
    out: DockerJsonFields,
  ): boolean {
    let entry: unknown;
    try {
      entry = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      return false;
    }
    if (typeof entry !== 'object' || entry === null) return false;
    const { log, stream, time } = entry as Record<string, unknown>;
    if (typeof log !== 'string' || typeof time !== 'string') return false;
    if (stream !== 'stdout' && stream !== 'stderr') return false;
    if (!this.parseTime(time, out)) return false;
    out.stream = stream === 'stdout' ? 0 : 1;
    this.setText(log, out);
    return true;
  }

  /** RFC 3339 with up to nine fraction digits; UTC `Z` on the fast path. */
  private parseTime(time: string, out: DockerJsonFields): boolean {
    const n = time.length;
    if (
      n >= SECOND_LENGTH + 1 &&
      time.charCodeAt(n - 1) === 90 /* Z */ &&
      (n === SECOND_LENGTH + 1 || time.charCodeAt(SECOND_LENGTH) === 46) /* . */
    ) {
      const second = time.slice(0, SECOND_LENGTH);
      if (second !== this.lastSecond) {
        const ms = Date.parse(`${second}Z`);
        if (Number.isNaN(ms)) return false;
        this.lastSecond = second;
        this.lastSecondMs = ms;
      }
      let nanos = 0;
      let digits = 0;
      for (let k = SECOND_LENGTH + 1; k < n - 1; k++) {
        const d = time.charCodeAt(k) - C_0;
        if (d < 0 || d > 9 || digits === 9) return false;
        nanos = nanos * 10 + d;
        digits++;
      }
      for (; digits < 9; digits++) nanos *= 10;
      out.timestampMs = this.lastSecondMs + Math.floor(nanos / 1_000_000);
      out.timestampNanos = nanos % 1_000_000;
      return true;
    }
    try {
      const t = parseRfc3339Nano(time);
      if (Number.isNaN(t.timestampMs)) return false;
      out.timestampMs = t.timestampMs;
      out.timestampNanos = t.timestampNanos;
      return true;
    } catch {
      return false;
    }
  }
}
