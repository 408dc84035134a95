// Block bodies: optional gzip, then optional AES-256-GCM. The frame header
// and the plaintext block prefix are authenticated as additional data, so a
// tampered header or body fails decryption.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { LcError } from '@lc/core';
import { CODEC_GZIP, CODEC_MASK, CODEC_NONE, FLAG_ENCRYPTED } from './frame.js';

const gzipAsync = promisify(gzip);
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type CompressionName = 'none' | 'gzip';

export function codecId(compression: CompressionName): number {
  return compression === 'gzip' ? CODEC_GZIP : CODEC_NONE;
}

/** Encode `plain` (concatenated record frames) into a block body tail. */
export async function encodeBlockPayload(
  plain: Buffer,
  flags: number,
  key: Buffer | undefined,
  aad: Buffer,
): Promise<Buffer> {
  const codec = flags & CODEC_MASK;
  const packed =
    codec === CODEC_GZIP ? await gzipAsync(plain, { level: 1 }) : plain;
  if ((flags & FLAG_ENCRYPTED) === 0 || key === undefined) return packed;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(packed), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/**
 * Decode a block body tail back to record frames. Throws `LC_ERR_DECRYPT`
 * when authentication fails (wrong key or tampering), or
 * `LC_ERR_BUFFER_CORRUPT` for an unknown codec or a bad gzip stream.
 */
export function decodeBlockPayload(
  data: Buffer,
  flags: number,
  key: Buffer | undefined,
  aad: Buffer,
): Buffer {
  let packed = data;
  if ((flags & FLAG_ENCRYPTED) !== 0) {
    if (key === undefined) {
      throw new LcError({
        code: 'LC_ERR_DECRYPT',
        message: 'buffer block is encrypted but no encryptionKey was given',
      });
    }
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new LcError({
        code: 'LC_ERR_DECRYPT',
        message: 'encrypted block too short',
      });
    }
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        key,
        data.subarray(0, IV_BYTES),
      );
      decipher.setAAD(aad);
      decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      packed = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new LcError({
        code: 'LC_ERR_DECRYPT',
        message:
          'buffer block failed authentication (wrong key or tampered data)',
        cause: error,
      });
    }
  }
  const codec = flags & CODEC_MASK;
  if (codec === CODEC_NONE) return packed;
  if (codec === CODEC_GZIP) {
    try {
      return gunzipSync(packed);
    } catch (error) {
      throw new LcError({
        code: 'LC_ERR_BUFFER_CORRUPT',
        message: 'buffer block has a bad gzip stream',
        cause: error,
      });
    }
  }
  throw new LcError({
    code: 'LC_ERR_BUFFER_CORRUPT',
    message: `buffer block uses unsupported codec ${codec}`,
    details: { codec },
  });
}
