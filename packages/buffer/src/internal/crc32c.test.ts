import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';

function bitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++)
      crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('should match the published check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  test.prop([fc.uint8Array({ maxLength: 300 })])(
    'should match a bit-by-bit reference',
    (data) => {
      expect(crc32c(data)).toBe(bitwise(data));
    },
  );

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat(200)])(
    'should give the same result when continued in two parts',
    (data, cut) => {
      const at = Math.min(cut, data.length);
      expect(crc32c(data, at, data.length, crc32c(data, 0, at))).toBe(
        crc32c(data),
      );
    },
  );
});
