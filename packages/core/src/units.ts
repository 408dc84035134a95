import { LcError } from './lc-error.js';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * Parse a human duration into milliseconds: a number (already ms) or a
 * string such as `"250ms"`, `"5s"`, `"1m30s"`, `"2h"`, `"7d"`. A bare
 * numeric string is milliseconds. Throws `LcError` (`LC_ERR_CONFIG`) with
 * the offending text otherwise.
 */
export function parseDurationMs(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw invalid('a duration', value);
  }
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  if (text === '') throw invalid('a duration', value);
  let total = 0;
  DURATION_PART.lastIndex = 0;
  let consumed = 0;
  for (;;) {
    const m = DURATION_PART.exec(text);
    if (m === null) break;
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] as string] as number);
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed !== text.length) throw invalid('a duration', value);
  return Math.round(total);
}

/**
 * Parse a human size into bytes: a number (already bytes) or a string such
 * as `"512"`, `"64KiB"`, `"64MiB"`, `"1GB"` (decimal `kB/MB/GB`, binary
 * `KiB/MiB/GiB`, case-insensitive). Throws `LcError` (`LC_ERR_CONFIG`).
 */
export function parseSizeBytes(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value);
    throw invalid('a size', value);
  }
  const m = SIZE.exec(value.trim());
  const unit = m === null ? undefined : (m[2] ?? '').toLowerCase() || 'b';
  const factor = unit === undefined ? undefined : SIZE_UNITS_BYTES[unit];
  if (m === null || factor === undefined) throw invalid('a size', value);
  return Math.floor(Number(m[1]) * factor);
}

/** 90000 → "1m30s": the shortest exact human form, for documented defaults. */
export function humanDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let left = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(left / size);
    if (n > 0) {
      out += `${n}${unit}`;
      left -= n * size;
    }
  }
  return out;
}

/** 67108864 → "64MiB": binary units when exact, else bytes; for documented defaults. */
export function humanSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

function invalid(what: string, value: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_CONFIG',
    message: `expected ${what} like ${what === 'a size' ? '"64MiB"' : '"5s"'}, got ${JSON.stringify(value)}`,
  });
}
