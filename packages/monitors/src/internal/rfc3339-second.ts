// The date-and-second part of an RFC 3339 time read from bytes, shared by
// the json-file and CRI line parsers (both start each entry with one).

const C_0 = 48;
const C_9 = 57;
const C_DASH = 45;
const C_COLON = 58;
const C_SPACE = 32;
const C_T = 84;
const C_t = 116;

/** Length of `YYYY-MM-DDTHH:MM:SS`. */
export const SECOND_LENGTH = 19;

/** Digits `b[i, i+n)` (all before `end`) as a number; -1 when one is not a digit. */
export function digits(b: Buffer, i: number, n: number, end: number): number {
  if (i + n > end) return -1;
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = b[k] as number;
    if (c < C_0 || c > C_9) return -1;
    v = v * 10 + c - C_0;
  }
  return v;
}

/**
 * Epoch ms (as UTC) of `YYYY-MM-DD?HH:MM:SS` at `b[i]`, where `?` is `T`
 * or `t` (or a space with `allowSpace`); undefined when malformed.
 */
function parseSecond(
  b: Buffer,
  i: number,
  end: number,
  allowSpace: boolean,
): number | undefined {
  const y = digits(b, i, 4, end);
  const mo = digits(b, i + 5, 2, end);
  const d = digits(b, i + 8, 2, end);
  const h = digits(b, i + 11, 2, end);
  const mi = digits(b, i + 14, 2, end);
  const se = digits(b, i + 17, 2, end);
  const t = b[i + 10];
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
    b[i + 4] !== C_DASH ||
    b[i + 7] !== C_DASH ||
    (t !== C_T && t !== C_t && !(allowSpace && t === C_SPACE)) ||
    b[i + 13] !== C_COLON ||
    b[i + 16] !== C_COLON
  )
    return undefined;
  // Date.UTC reads years 0-99 as 1900-1999: set the year apart.
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, se));
  date.setUTCFullYear(y, mo - 1, d);
  return date.getTime();
}

/**
 * Converts the second at the start of a time, keeping the last one it
 * converted: entries of one second share it, so most cost a
 * {@link SECOND_LENGTH}-byte compare instead of a date conversion.
 */
export class CachedSecond {
  private readonly allowSpace: boolean;
  private readonly second = Buffer.alloc(SECOND_LENGTH);
  private secondSet = false;
  private secondMs = 0;

  /** `allowSpace`: a space may separate the date and the time. */
  constructor(allowSpace: boolean) {
    this.allowSpace = allowSpace;
  }

  /** Epoch ms of the second at `b[i]` (before `end`); undefined when malformed. */
  epochMs(b: Buffer, i: number, end: number): number | undefined {
    if (this.secondSet && this.isCached(b, i)) return this.secondMs;
    const ms = parseSecond(b, i, end, this.allowSpace);
    if (ms === undefined) return undefined;
    b.copy(this.second, 0, i, i + SECOND_LENGTH);
    this.secondSet = true;
    this.secondMs = ms;
    return ms;
  }

  private isCached(b: Buffer, i: number): boolean {
    const s = this.second;
    for (let k = SECOND_LENGTH - 1; k >= 0; k--)
      if (b[i + k] !== s[k]) return false;
    return true;
  }
}
