import { createHash } from 'node:crypto';

/**
 * Hex digest used for fingerprints and offset markers: the first 16 bytes of
 * SHA-256. Collisions are irrelevant at this length; the hash only has to
 * tell "same bytes" from "different bytes".
 */
export function hashHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/** Hash of a UTF-8 string, same digest as {@link hashHex}. */
export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
