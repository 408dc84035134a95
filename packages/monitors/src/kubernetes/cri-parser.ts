/** The stream a CRI log line was written to. */
export type CriStream = 'stdout' | 'stderr';

/**
 * One line of a CRI container log file (what containerd and CRI-O write
 * under `/var/log/pods`): `<RFC 3339 nano time> <stream> <tag> <message>`.
 */
export interface CriLine {
  /** The runtime's time of the line, ms since the epoch. */
  readonly timestampMs: number;
  /** Nanoseconds within that millisecond, `[0, 999_999]`. */
  readonly timestampNanos: number;
  readonly stream: CriStream;
  /**
   * True for a `P` tag: a fragment of a longer line, continued by the
   * following lines of the same stream up to one tagged `F`.
   */
  readonly partial: boolean;
  /** The message (a fragment of one when `partial`), without a newline. */
  readonly message: string;
}

/** A mutable {@link CriLine}, filled in place on the hot path. */
export interface CriFields {
  timestampMs: number;
  timestampNanos: number;
  /** 0 stdout, 1 stderr. */
  stream: 0 | 1;
  partial: boolean;
  /** Characters before the message (time, stream, tag and their spaces). */
  prefixLength: number;
}

const C_0 = 48;
const C_9 = 57;
const C_SPACE = 32;
const C_DOT = 46;
const C_COLON = 58;
const C_DASH = 45;
const C_PLUS = 43;
const C_T = 84;
const C_t = 116;
const C_Z = 90;
const C_z = 122;
const C_P = 80;
const C_F = 70;
const NANOS_PER_MS = 1_000_000;
/** `YYYY-MM-DDTHH:MM:SS`: the part of the time shared by a second's lines. */
const SECOND_LENGTH = 19;
const POW10 = [
  1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
  1_000_000_000,
];

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= C_0 && c <= C_9 ? c - C_0 : -1;
}

/** Digits `s[i, i+n)` as a number; -1 when one is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = digit(s, i + k);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parses CRI log lines. Keeps the last second it converted (lines of one
 * second share it), so most lines cost a prefix compare and a few digit
 * reads instead of a date conversion.
 */
export class CriLineParser {
  private second = '';
  private secondMs = 0;

  /**
   * Parse `line` into `out`; false when it is not a CRI line (no valid
   * time, stream or tag). The message is `line.slice(out.prefixLength)`.
   */
  parseInto(line: string, out: CriFields): boolean {
    if (line.length < SECOND_LENGTH + 2) return false;
    let baseMs: number;
    if (this.second !== '' && line.startsWith(this.second)) {
      baseMs = this.secondMs;
    } else {
      const ms = parseSecond(line);
      if (ms === undefined) return false;
      this.second = line.slice(0, SECOND_LENGTH);
      this.secondMs = ms;
      baseMs = ms;
    }
    let i = SECOND_LENGTH;
    let nanos = 0;
    if (line.charCodeAt(i) === C_DOT) {
      i++;
      let n = 0;
      for (let d = digit(line, i); d >= 0; d = digit(line, ++i)) {
        // Up to nine digits count; more are below a nanosecond.
        if (n < 9) nanos = nanos * 10 + d;
        n++;
      }
      if (n === 0) return false;
      if (n < 9) nanos *= POW10[9 - n] as number;
    }
    let zoneMs = 0;
    const z = line.charCodeAt(i);
    if (z === C_Z || z === C_z) i++;
    else if (z === C_PLUS || z === C_DASH) {
      const hh = digits(line, i + 1, 2);
      const mm = digits(line, i + 4, 2);
      if (hh < 0 || mm < 0 || line.charCodeAt(i + 3) !== C_COLON) return false;
      zoneMs = (z === C_PLUS ? 1 : -1) * (hh * 60 + mm) * 60_000;
      i += 6;
    } else return false;
    if (line.charCodeAt(i) !== C_SPACE) return false;
    i++;
    let stream: 0 | 1;
    if (line.startsWith('stdout ', i)) stream = 0;
    else if (line.startsWith('stderr ', i)) stream = 1;
    else return false;
    i += 7;
    // The tag: `P` or `F`, optionally followed by `:`-separated others.
    const tag = line.charCodeAt(i);
    if (tag !== C_P && tag !== C_F) return false;
    i++;
    const next = line.charCodeAt(i);
    if (next === C_COLON) {
      const space = line.indexOf(' ', i);
      i = space === -1 ? line.length : space;
    } else if (i < line.length && next !== C_SPACE) return false;
    const msWithin = Math.floor(nanos / NANOS_PER_MS);
    out.timestampMs = baseMs + msWithin - zoneMs;
    out.timestampNanos = nanos - msWithin * NANOS_PER_MS;
    out.stream = stream;
    out.partial = tag === C_P;
    // One space before the message; none when the line ends at the tag.
    out.prefixLength = i < line.length ? i + 1 : i;
    return true;
  }
}

/** Epoch ms of `YYYY-MM-DDTHH:MM:SS` at the start of `s` (as UTC); undefined when malformed. */
function parseSecond(s: string): number | undefined {
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  const t = s.charCodeAt(10);
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > 31 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    se < 0 ||
    se > 60 ||
    s.charCodeAt(4) !== C_DASH ||
    s.charCodeAt(7) !== C_DASH ||
    (t !== C_T && t !== C_t) ||
    s.charCodeAt(13) !== C_COLON ||
    s.charCodeAt(16) !== C_COLON
  )
    return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, se);
}

const shared = new CriLineParser();

/**
 * Parse one CRI log line (without its newline). Returns undefined when it
 * is not one: a time that is not RFC 3339, a stream other than `stdout`
 * or `stderr`, or a tag other than `P`/`F`.
 *
 * ```ts
 * parseCriLine('2026-01-01T12:00:00.123456789Z stdout F hello');
 * // { timestampMs: 1767268800123, timestampNanos: 456789,
 * //   stream: 'stdout', partial: false, message: 'hello' }
 * ```
 */
export function parseCriLine(line: string): CriLine | undefined {
  const f: CriFields = {
    timestampMs: 0,
    timestampNanos: 0,
    stream: 0,
    partial: false,
    prefixLength: 0,
  };
  if (!shared.parseInto(line, f)) return undefined;
  return {
    timestampMs: f.timestampMs,
    timestampNanos: f.timestampNanos,
    stream: f.stream === 0 ? 'stdout' : 'stderr',
    partial: f.partial,
    message: line.slice(f.prefixLength),
  };
}
