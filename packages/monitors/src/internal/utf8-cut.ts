/**
 * The last character start at or before `at` in `buf` (not before
 * `from`): a cut there does not split a UTF-8 sequence.
 */
export function charStart(buf: Buffer, from: number, at: number): number {
  let i = at;
  while (i > from && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return i;
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes (whole characters). */
export function cutToBytes(text: string, maxBytes: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= maxBytes) return text;
  return buf.toString('utf8', 0, charStart(buf, 0, maxBytes));
}
