const INITIAL_BYTES = 4096;

// Node's internal fast path (no argument normalisation); present on every
// Node Buffer, but untyped. Falls back to `Buffer#write` if ever missing.
type Utf8Write = (value: string, offset: number, length: number) => number;
const nativeUtf8Write = (
  Buffer.prototype as unknown as { utf8Write?: Utf8Write }
).utf8Write;
const utf8Write: (
  buf: Buffer,
  value: string,
  offset: number,
  length: number,
) => number =
  nativeUtf8Write === undefined
    ? (buf, value, offset, length) => buf.write(value, offset, length, 'utf8')
    : (buf, value, offset, length) =>
        nativeUtf8Write.call(buf, value, offset, length);

/**
 * Append-only binary writer over a growable buffer. Strings are written as
 * a varint byte length followed by UTF-8, encoded in place (no temporary
 * buffer per string).
 */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(bytes: number): void {
    const need = this.pos + bytes;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /** Unsigned integer up to 2^53, LEB128. */
  varUint(value: number): void {
    this.ensure(8);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  f64(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  string(value: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit. Reserve a fixed-width
    // varint for that bound, encode in place, then fill the length in
    // (LEB128 with continuation bits; the reader does not require the
    // shortest form). Saves a Buffer.byteLength pass per string.
    const max = value.length * 3;
    this.ensure(max + 4);
    const buf = this.buf;
    const at = this.pos;
    if (max < 0x80) {
      const written = utf8Write(buf, value, at + 1, max);
      buf[at] = written;
      this.pos = at + 1 + written;
    } else if (max < 0x4000) {
      const written = utf8Write(buf, value, at + 2, max);
      buf[at] = (written & 0x7f) | 0x80;
      buf[at + 1] = written >>> 7;
      this.pos = at + 2 + written;
    } else if (max < 0x200000) {
      const written = utf8Write(buf, value, at + 3, max);
      buf[at] = (written & 0x7f) | 0x80;
      buf[at + 1] = ((written >>> 7) & 0x7f) | 0x80;
      buf[at + 2] = written >>> 14;
      this.pos = at + 3 + written;
    } else {
      const written = Buffer.byteLength(value, 'utf8');
      this.varUint(written);
      utf8Write(this.buf, value, this.pos, written);
      this.pos += written;
    }
  }

  bytes(value: Uint8Array): void {
    this.varUint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** The written bytes (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
