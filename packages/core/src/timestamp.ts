import { LcError } from './lc-error.js';

/**
 * Nanosecond timestamps without a bigint per record: whole milliseconds
 * since the Unix epoch (a safe integer) plus the nanoseconds within that
 * millisecond (0..999_999). Converting to the decimal string Loki wants is
 * a string concatenation, and comparisons are two number compares.
 */
export interface Timestamp {
  /** Milliseconds since the Unix epoch, an integer. */
  readonly timestampMs: number;
  /** Nanoseconds within the millisecond, integer in `[0, 999_999]`. */
  readonly timestampNanos: number;
}

const NANOS_PER_MS = 1_000_000;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/** Current time as a {@link Timestamp}, from a millisecond clock. */
export function timestampFromMs(ms: number): Timestamp {
  const whole = Math.floor(ms);
  const nanos = Math.round((ms - whole) * NANOS_PER_MS);
  return { timestampMs: whole, timestampNanos: Math.min(nanos, 999_999) };
}

/**
 * Decimal nanoseconds since the epoch (e.g. `"1700000000123456789"`), the
 * form Loki's JSON API and Docker's `since` use.
 */
export function formatTimestampNs(ts: Timestamp): string {
  if (ts.timestampMs === 0) return String(ts.timestampNanos);
  return `${ts.timestampMs}${String(ts.timestampNanos).padStart(6, '0')}`;
}

/** Parse decimal epoch nanoseconds (as produced by {@link formatTimestampNs}). */
export function parseTimestampNs(value: string): Timestamp {
  if (!/^\d+$/.test(value)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_INPUT',
      message: `expected decimal epoch nanoseconds, got ${JSON.stringify(value)}`,
    });
  }
  const split = Math.max(0, value.length - 6);
  return {
    timestampMs: Number(value.slice(0, split) || '0'),
    timestampNanos: Number(value.slice(split)),
  };
}

/** Seconds and nanoseconds, as protobuf `google.protobuf.Timestamp` wants. */
export function toSecondsNanos(ts: Timestamp): {
  seconds: number;
  nanos: number;
} {
  const seconds = Math.floor(ts.timestampMs / 1000);
  const msInSecond = ts.timestampMs - seconds * 1000;
  return { seconds, nanos: msInSecond * NANOS_PER_MS + ts.timestampNanos };
}

/**
 * Parse an RFC 3339 timestamp with up to nine fractional digits, as Docker
 * writes them (`2026-11-23T17:13:37.123456789Z`). Throws `LcError`
 * (`LC_ERR_INVALID_INPUT`) naming the input when it does not parse.
 */
export function parseRfc3339Nano(value: string): Timestamp {
  const m = RFC3339.exec(value);
  if (m === null) {
    throw new LcError({
      code: 'LC_ERR_INVALID_INPUT',
      message: `expected an RFC 3339 timestamp, got ${JSON.stringify(value)}`,
    });
  }
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
  );
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offsetMin = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    ms -= sign * offsetMin * 60_000;
  }
  const nanosOfSecond = Number(frac.padEnd(9, '0'));
  const msPart = Math.floor(nanosOfSecond / NANOS_PER_MS);
  return {
    timestampMs: ms + msPart,
    timestampNanos: nanosOfSecond - msPart * NANOS_PER_MS,
  };
}

/** RFC 3339 with nine fractional digits, UTC. */
export function formatRfc3339Nano(ts: Timestamp): string {
  const iso = new Date(ts.timestampMs).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, 23)}${String(ts.timestampNanos).padStart(6, '0')}Z`;
}

/** Negative, zero or positive, like `Array.prototype.sort` wants. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.timestampMs - b.timestampMs || a.timestampNanos - b.timestampNanos;
}
