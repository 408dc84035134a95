import {
  CachedSecond,
  digits,
  SECOND_LENGTH,
} from '../internal/rfc3339-second.js';

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
// From the closing quote of `log` to the opening quote of `time`'s value.
const STREAM_STDOUT = Buffer.from('","stream":"stdout","time":"');
const STREAM_STDERR = Buffer.from('","stream":"stderr","time":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE_BRACE = 0x7d;
const N_LOWER = 0x6e;
const C_0 = 48;
const C_9 = 57;
const C_DASH = 45;
const C_PLUS = 43;
const C_COLON = 58;
const C_DOT = 46;
const C_Z = 90;
const C_z = 122;
/** A backslash or a control character (which JSON strings must escape). */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const ESCAPE_OR_CONTROL = /[\u0000-\u001f\\]/;
/** Below this, a byte is a control character JSON strings must escape. */
const C_FIRST_PRINTABLE = 0x20;
const NANOS_PER_MS = 1_000_000;
/** `YYYY-MM-DDTHH:MM:SS`: shared by all entries of one second. */

function startsWith(b: Buffer, i: number, end: number, word: Buffer): boolean {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

/**
 * Parses json-file lines. The engine's own shape (`log`, `stream`, `time`
 * in that order, nothing after) is read from the bytes: no `JSON.parse`
 * unless `log` holds an escape other than its final newline, and no date
 * conversion unless the second changed since the previous entry. Any
 * other line (`attrs`, another field order, whitespace) goes through
 * `JSON.parse`, with the same result as the fast path would give: the
 * same line never parses differently depending on the path.
 *
 * The time is RFC 3339 with up to nine fraction digits (`T`, `t` or a
 * space between date and time; `Z`, `z` or a `±HH:MM` offset), fields in
 * range (month 1-12, day 1-31, hour ≤ 23, minute ≤ 59, second ≤ 60).
 */
export class DockerJsonLineParser {
  /** The last second converted and its epoch ms. */
  private readonly second = new CachedSecond(true);

  /**
   * Parse `buf[start, end)` (one line without its newline) into `out`.
   * Returns false when it is not a json-file entry (`out` may then be
   * partly written).
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
    // The first quote ends `log` unless an escape comes before it: the
    // engine's lines have none but their final newline (`…\n"`). One
    // native search (never past the line's own quotes), the text decoded
    // once, and one regular-expression test of it for a backslash or a
    // raw control character (faster than a loop over the bytes; UTF-8
    // decoding maps those bytes, and only those, to those characters).
    const quote = buf.indexOf(QUOTE, logStart);
    if (quote === -1 || quote >= end)
      return this.parseSlow(buf, start, end, out);
    const newline =
      quote - logStart >= 2 &&
      buf[quote - 1] === N_LOWER &&
      buf[quote - 2] === BACKSLASH;
    const text = buf.toString('utf8', logStart, newline ? quote - 2 : quote);
    const simple = !ESCAPE_OR_CONTROL.test(text);
    let logEnd = quote;
    if (!simple) {
      // Other escapes (or raw control bytes, which the reference path
      // refuses): find the quote not escaped, decode with JSON.parse.
      let i = logStart;
      while (i < end) {
        const c = buf[i] as number;
        if (c === QUOTE) break;
        if (c === BACKSLASH) i += 2;
        else if (c < C_FIRST_PRINTABLE)
          return this.parseSlow(buf, start, end, out);
        else i++;
      }
      if (i >= end) return this.parseSlow(buf, start, end, out);
      logEnd = i;
    }
    let stream: 0 | 1;
    if (startsWith(buf, logEnd, end, STREAM_STDOUT)) stream = 0;
    else if (startsWith(buf, logEnd, end, STREAM_STDERR)) stream = 1;
    else return this.parseSlow(buf, start, end, out);
    const timeStart = logEnd + STREAM_STDOUT.length;
    // The time's closing quote ends the object: `"}` are the last bytes.
    const timeEnd = end - 2;
    if (
      timeEnd < timeStart ||
      buf[timeEnd] !== QUOTE ||
      buf[end - 1] !== CLOSE_BRACE ||
      !this.parseTime(buf, timeStart, timeEnd, out)
    )
      return this.parseSlow(buf, start, end, out);
    if (simple) {
      out.text = text;
      // The engine escapes every newline: a `log` without one is partial.
      out.partial = !newline;
    } else {
      let text: unknown;
      try {
        text = JSON.parse(buf.toString('utf8', logStart - 1, logEnd + 1));
      } catch {
        return this.parseSlow(buf, start, end, out);
      }
      setText(text as string, out);
    }
    out.stream = stream;
    return true;
  }

  /** The reference path: `JSON.parse` of the whole line. */
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
    const t = Buffer.from(time);
    if (!this.parseTime(t, 0, t.length, out)) return false;
    out.stream = stream === 'stdout' ? 0 : 1;
    setText(log, out);
    return true;
  }

  /** The RFC 3339 time `b[i, end)` into `out`; false when it is not one. */
  private parseTime(
    b: Buffer,
    i: number,
    end: number,
    out: DockerJsonFields,
  ): boolean {
    if (end - i < SECOND_LENGTH + 1) return false;
    const baseMs = this.second.epochMs(b, i, end);
    if (baseMs === undefined) return false;
    let k = i + SECOND_LENGTH;
    let nanos = 0;
    if (b[k] === C_DOT) {
      k++;
      let n = 0;
      for (; k < end && n < 10; k++, n++) {
        const c = b[k] as number;
        if (c < C_0 || c > C_9) break;
        nanos = nanos * 10 + c - C_0;
      }
      if (n === 0 || n > 9) return false;
      for (; n < 9; n++) nanos *= 10;
    }
    let zoneMs = 0;
    const z = b[k];
    if ((z === C_Z || z === C_z) && k + 1 === end) {
      // UTC, as the engine writes it.
    } else if ((z === C_PLUS || z === C_DASH) && k + 6 === end) {
      const hh = digits(b, k + 1, 2, end);
      const mm = digits(b, k + 4, 2, end);
      if (hh < 0 || mm < 0 || b[k + 3] !== C_COLON) return false;
      zoneMs = (z === C_PLUS ? 1 : -1) * (hh * 60 + mm) * 60_000;
    } else return false;
    const msWithin = Math.floor(nanos / NANOS_PER_MS);
    out.timestampMs = baseMs + msWithin - zoneMs;
    out.timestampNanos = nanos - msWithin * NANOS_PER_MS;
    return true;
  }
}

function setText(text: string, out: DockerJsonFields): void {
  if (text.endsWith('\n')) {
    out.text = text.slice(0, -1);
    out.partial = false;
  } else {
    out.text = text;
    out.partial = true;
  }
}
