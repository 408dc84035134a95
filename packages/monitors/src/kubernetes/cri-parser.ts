import {
  CachedSecond,
  digits,
  SECOND_LENGTH,
} from '../internal/rfc3339-second.js';

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
  /** Bytes before the message (time, stream, tag and their spaces). */
  prefixLength: number;
}

const C_0 = 48;
const C_9 = 57;
const C_SPACE = 32;
const C_DOT = 46;
const C_COLON = 58;
const C_DASH = 45;
const C_PLUS = 43;
const C_Z = 90;
const C_z = 122;
const C_P = 80;
const C_F = 70;
const NANOS_PER_MS = 1_000_000;
/** `YYYY-MM-DDTHH:MM:SS`: the part of the time shared by a second's lines. */
const POW10 = [
  1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
  1_000_000_000,
];
const STDOUT = Buffer.from('stdout ');
const STDERR = Buffer.from('stderr ');

function digit(b: Buffer, i: number, end: number): number {
  if (i >= end) return -1;
  const c = b[i] as number;
  return c >= C_0 && c <= C_9 ? c - C_0 : -1;
}

function startsWith(b: Buffer, i: number, end: number, word: Buffer): boolean {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

/**
 * Parses CRI log lines from their bytes. Keeps the last second it
 * converted (lines of one second share it), so most lines cost a prefix
 * compare and a few digit reads instead of a date conversion.
 */
export class CriLineParser {
  private readonly second = new CachedSecond(false);

  /**
   * Parse the line `b[start, end)` (without its newline) into `out`;
   * false when it is not a CRI line (no valid time, stream or tag). The
   * message is `b[start + out.prefixLength, end)`.
   */
  parseInto(b: Buffer, start: number, end: number, out: CriFields): boolean {
    if (end - start < SECOND_LENGTH + 2) return false;
    const baseMs = this.second.epochMs(b, start, end);
    if (baseMs === undefined) return false;
    let i = start + SECOND_LENGTH;
    let nanos = 0;
    if (b[i] === C_DOT) {
      i++;
      let n = 0;
      for (let d = digit(b, i, end); d >= 0; d = digit(b, ++i, end)) {
        // Up to nine digits count; more are below a nanosecond.
        if (n < 9) nanos = nanos * 10 + d;
        n++;
      }
      if (n === 0) return false;
      if (n < 9) nanos *= POW10[9 - n] as number;
    }
    let zoneMs = 0;
    const z = b[i];
    if (z === C_Z || z === C_z) i++;
    else if (z === C_PLUS || z === C_DASH) {
      const hh = digits(b, i + 1, 2, end);
      const mm = digits(b, i + 4, 2, end);
      if (hh < 0 || mm < 0 || b[i + 3] !== C_COLON) return false;
      zoneMs = (z === C_PLUS ? 1 : -1) * (hh * 60 + mm) * 60_000;
      i += 6;
    } else return false;
    if (i >= end || b[i] !== C_SPACE) return false;
    i++;
    let stream: 0 | 1;
    if (startsWith(b, i, end, STDOUT)) stream = 0;
    else if (startsWith(b, i, end, STDERR)) stream = 1;
    else return false;
    i += STDOUT.length;
    // The tag: `P` or `F`, optionally followed by `:`-separated others.
    const tag = i < end ? b[i] : undefined;
    if (tag !== C_P && tag !== C_F) return false;
    i++;
    if (i < end && b[i] === C_COLON) {
      while (i < end && b[i] !== C_SPACE) i++;
    } else if (i < end && b[i] !== C_SPACE) return false;
    const msWithin = Math.floor(nanos / NANOS_PER_MS);
    out.timestampMs = baseMs + msWithin - zoneMs;
    out.timestampNanos = nanos - msWithin * NANOS_PER_MS;
    out.stream = stream;
    out.partial = tag === C_P;
    // One space before the message; none when the line ends at the tag.
    out.prefixLength = (i < end ? i + 1 : i) - start;
    return true;
  }
}

const shared = new CriLineParser();

/**
 * Parse one CRI log line (without its newline; a `\r` before the newline
 * is part of the message). Returns undefined when it
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
  const b = Buffer.from(line, 'utf8');
  if (!shared.parseInto(b, 0, b.length, f)) return undefined;
  return {
    timestampMs: f.timestampMs,
    timestampNanos: f.timestampNanos,
    stream: f.stream === 0 ? 'stdout' : 'stderr',
    partial: f.partial,
    message: b.toString('utf8', f.prefixLength),
  };
}
