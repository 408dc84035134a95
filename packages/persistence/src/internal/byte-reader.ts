import { LcError } from '@lc/core';

/** Sequential reader matching {@link ByteWriter}. Throws on truncation. */
export class ByteReader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) {
      throw new LcError({
        code: 'LC_ERR_BUFFER_CORRUPT',
        message: `truncated entry: needed ${bytes} bytes at offset ${this.pos}, ${this.end - this.pos} left`,
        details: { offset: this.pos },
      });
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  varUint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `varint too long at offset ${this.pos}`,
    });
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  string(): string {
    const len = this.varUint();
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  bytes(): Buffer {
    const len = this.varUint();
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
}
