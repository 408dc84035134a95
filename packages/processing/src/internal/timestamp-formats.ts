import type { Timestamp } from '@lc/core';
import { LcError } from '@lc/core';

/** Parses a timestamp text; undefined when it does not match. */
export type TimestampParser = (text: string) => Timestamp | undefined;

const MONTHS = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
];

/**
 * Offset of a time zone from UTC in minutes at a given instant: `UTC`,
 * `±HH:MM`/`±HHMM`, or an IANA name (via Intl, cached per zone).
 */
export function compileZone(zone: string): (utcMs: number) => number {
  if (zone === 'UTC' || zone === 'Z') return () => 0;
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (fixed !== null) {
    const minutes =
      (Number(fixed[2]) * 60 + Number(fixed[3])) * (fixed[1] === '-' ? -1 : 1);
    return () => minutes;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    throw new LcError({
      code: 'LC_ERR_CONFIG',
      message: `unknown time zone ${JSON.stringify(zone)}`,
      cause: error,
    });
  }
  return (utcMs) => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(new Date(utcMs))) {
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    }
    const asUtc = Date.UTC(
      parts['year'] as number,
      (parts['month'] as number) - 1,
      parts['day'],
      parts['hour'],
      parts['minute'],
      parts['second'],
    );
    return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
  };
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: string;
  offsetMinutes: number | undefined;
}

function toTimestamp(
  p: Parts,
  zone: (utcMs: number) => number,
): Timestamp | undefined {
  if (
    p.month < 1 ||
    p.month > 12 ||
    p.day < 1 ||
    p.day > 31 ||
    p.hour > 23 ||
    p.minute > 59 ||
    p.second > 60
  ) {
    return undefined;
  }
  const local = Date.UTC(
    p.year,
    p.month - 1,
    p.day,
    p.hour,
    p.minute,
    p.second,
  );
  let offset = p.offsetMinutes;
  if (offset === undefined) {
    offset = zone(local);
    offset = zone(local - offset * 60_000);
  }
  const nanosOfSecond = Number(p.fraction.slice(0, 9).padEnd(9, '0'));
  const msPart = Math.floor(nanosOfSecond / 1_000_000);
  return {
    timestampMs: local - offset * 60_000 + msPart,
    timestampNanos: nanosOfSecond - msPart * 1_000_000,
  };
}

function offsetOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (text === 'Z' || text === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (m === null) return undefined;
  return (Number(m[2]) * 60 + Number(m[3])) * (m[1] === '-' ? -1 : 1);
}

const ISO =
  /^(\d{4})[-/](\d{2})[-/](\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|z|[+-]\d{2}:?\d{2})?$/;
const COMMON_LOG =
  /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\s([+-]\d{4}))?$/;
const SYSLOG =
  /^([A-Za-z]{3})\s+(\d{1,2})\s(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

function numeric(unit: 'auto' | 's' | 'ms' | 'ns'): TimestampParser {
  return (text) => {
    if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined;
    const [whole = '', frac = ''] = text.split('.');
    let u = unit;
    if (u === 'auto') {
      if (whole.length <= 10) u = 's';
      else if (whole.length <= 13) u = 'ms';
      else if (whole.length <= 16)
        return {
          timestampMs: Math.floor(Number(whole) / 1000),
          timestampNanos: (Number(whole) % 1000) * 1000,
        };
      else u = 'ns';
    }
    if (u === 's') {
      const nanos = Number(frac.slice(0, 9).padEnd(9, '0'));
      const ms = Math.floor(nanos / 1_000_000);
      return {
        timestampMs: Number(whole) * 1000 + ms,
        timestampNanos: nanos - ms * 1_000_000,
      };
    }
    if (u === 'ms')
      return {
        timestampMs: Number(whole),
        timestampNanos: Math.round(Number(`0.${frac || '0'}`) * 1_000_000),
      };
    const split = Math.max(0, whole.length - 6);
    return {
      timestampMs: Number(whole.slice(0, split) || '0'),
      timestampNanos: Number(whole.slice(split)),
    };
  };
}

/**
 * Compile a format name or pattern once. Names: `auto`, `rfc3339` (ISO
 * 8601 incl. a space separator), `unix_s`, `unix_ms`, `unix_ns`,
 * `common_log` (`02/Jan/2006:15:04:05 -0700`), `syslog` (`Jan  2
 * 15:04:05`, year inferred). Anything else is a pattern using `YYYY MM
 * MMM DD HH mm ss SSS Z`.
 */
export function compileTimestampFormat(
  format: string,
  zone: (utcMs: number) => number,
  nowMs: () => number,
): TimestampParser {
  const iso: TimestampParser = (text) => {
    const m = ISO.exec(text);
    if (m === null) return undefined;
    return toTimestamp(
      {
        year: +m[1]!,
        month: +m[2]!,
        day: +m[3]!,
        hour: +m[4]!,
        minute: +m[5]!,
        second: +m[6]!,
        fraction: m[7] ?? '',
        offsetMinutes: offsetOf(m[8]),
      },
      zone,
    );
  };
  const commonLog: TimestampParser = (text) => {
    const m = COMMON_LOG.exec(text);
    if (m === null) return undefined;
    const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    return toTimestamp(
      {
        year: +m[3]!,
        month,
        day: +m[1]!,
        hour: +m[4]!,
        minute: +m[5]!,
        second: +m[6]!,
        fraction: '',
        offsetMinutes: offsetOf(m[7]),
      },
      zone,
    );
  };
  const syslog: TimestampParser = (text) => {
    const m = SYSLOG.exec(text);
    if (m === null) return undefined;
    const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
    const now = nowMs();
    const year = new Date(now).getUTCFullYear();
    const parts = {
      year,
      month,
      day: +m[2]!,
      hour: +m[3]!,
      minute: +m[4]!,
      second: +m[5]!,
      fraction: m[6] ?? '',
      offsetMinutes: undefined,
    };
    const ts = toTimestamp(parts, zone);
    // December lines read in January belong to last year.
    if (ts !== undefined && ts.timestampMs > now + 86_400_000)
      return toTimestamp({ ...parts, year: year - 1 }, zone);
    return ts;
  };
  switch (format) {
    case 'rfc3339':
    case 'iso8601':
      return iso;
    case 'unix_s':
      return numeric('s');
    case 'unix_ms':
      return numeric('ms');
    case 'unix_ns':
      return numeric('ns');
    case 'common_log':
      return commonLog;
    case 'syslog':
      return syslog;
    case 'auto': {
      const num = numeric('auto');
      return (text) =>
        iso(text) ?? num(text) ?? commonLog(text) ?? syslog(text);
    }
    default:
      return compilePattern(format, zone);
  }
}

const TOKENS: readonly [string, string, keyof Parts | 'monthName'][] = [
  ['YYYY', '(\\d{4})', 'year'],
  ['MMM', '([A-Za-z]{3})', 'monthName'],
  ['MM', '(\\d{1,2})', 'month'],
  ['DD', '(\\d{1,2})', 'day'],
  ['HH', '(\\d{1,2})', 'hour'],
  ['mm', '(\\d{2})', 'minute'],
  ['ss', '(\\d{2})', 'second'],
  ['SSS', '(\\d{1,9})', 'fraction'],
  ['Z', '(Z|[+-]\\d{2}:?\\d{2})', 'offsetMinutes'],
];

function compilePattern(
  pattern: string,
  zone: (utcMs: number) => number,
): TimestampParser {
  let source = '^';
  const order: (keyof Parts | 'monthName')[] = [];
  let i = 0;
  outer: while (i < pattern.length) {
    for (const [token, re, field] of TOKENS) {
      if (pattern.startsWith(token, i)) {
        source += re;
        order.push(field);
        i += token.length;
        continue outer;
      }
    }
    source += (pattern[i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    i++;
  }
  if (
    !order.includes('year') ||
    !(order.includes('month') || order.includes('monthName')) ||
    !order.includes('day')
  ) {
    throw new LcError({
      code: 'LC_ERR_CONFIG',
      message: `timestamp format ${JSON.stringify(pattern)} needs YYYY, MM (or MMM) and DD`,
    });
  }
  const re = new RegExp(`${source}$`);
  return (text) => {
    const m = re.exec(text);
    if (m === null) return undefined;
    const p: Parts = {
      year: 0,
      month: 0,
      day: 0,
      hour: 0,
      minute: 0,
      second: 0,
      fraction: '',
      offsetMinutes: undefined,
    };
    order.forEach((field, k) => {
      const v = m[k + 1] as string;
      if (field === 'monthName') p.month = MONTHS.indexOf(v.toLowerCase()) + 1;
      else if (field === 'fraction') p.fraction = v;
      else if (field === 'offsetMinutes') p.offsetMinutes = offsetOf(v);
      else p[field] = Number(v);
    });
    return toTimestamp(p, zone);
  };
}
