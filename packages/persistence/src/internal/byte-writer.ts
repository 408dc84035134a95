const INITIAL_BYTES = 4096;

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
    // UTF-8 needs at most 3 bytes per UTF-16 unit; reserve that, then
    // write the real length in front.
    const max = value.length * 3;
    this.ensure(max + 8);
    if (value.length < 0x80 / 3) {
      // Length fits one varint byte whatever the content.
      const start = this.pos + 1;
      const written = this.buf.write(value, start, max, 'utf8');
      this.buf[this.pos] = written;
      this.pos = start + written;
      return;
    }
    const written = Buffer.byteLength(value, 'utf8');
    this.varUint(written);
    this.buf.write(value, this.pos, written, 'utf8');
    this.pos += written;
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
