/**
 * Protobuf wire-format primitives shared by the hand-written encoders
 * (Loki `PushRequest`, OTLP `ExportLogsServiceRequest`): sizes first, then
 * one Buffer filled in place.
 */

/** Bytes of `n` (a non-negative safe integer) as a varint. */
export function varintLen(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  if (n < 0x800000000) return 5;
  if (n < 0x40000000000) return 6;
  if (n < 0x2000000000000) return 7;
  return 8;
}

/** Write `n` as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

/** UTF-8 byte length of `s`. */
export function strLen(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Write `s` whose UTF-8 length is `bytes`. ASCII strings (length equals
 * byte length) take the cheaper latin1 path, which yields the same bytes.
 */
export function writeStr(
  buf: Buffer,
  pos: number,
  s: string,
  bytes: number,
): number {
  if (bytes === s.length) buf.write(s, pos, bytes, 'latin1');
  else buf.write(s, pos, bytes, 'utf8');
  return pos + bytes;
}

/** Bytes of a length-delimited field (one-byte tag) with a `len`-byte payload. */
export function fieldLen(len: number): number {
  return 1 + varintLen(len) + len;
}
