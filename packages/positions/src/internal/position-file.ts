import { createHash } from 'node:crypto';
import type { Position } from '@lc/core';

const FORMAT = 'lc-positions';
const VERSION = 1;
const ARRAY_OPEN = ',"positions":[';
const TAIL = ']}\n';

/**
 * Serialise to the store's file format: a JSON object whose `positions`
 * array holds one position per line (readable, diffable), with a SHA-256
 * `checksum` over the exact text of that array's contents, so a torn or
 * edited file is detected. `lines` are `JSON.stringify(position)` strings
 * (cached by the store so unchanged positions are not re-serialised).
 * `journalSeq` is the first journal generation to replay on top of it.
 */
export function serializeLines(
  lines: readonly string[],
  savedAtMs: number,
  journalSeq = 0,
): string {
  const body = lines.length === 0 ? '' : `\n${lines.join(',\n')}\n`;
  const checksum = createHash('sha256').update(body).digest('hex');
  const header = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    savedAtMs,
    count: lines.length,
    checksum,
    journal: journalSeq,
  });
  return `${header.slice(0, -1)}${ARRAY_OPEN}${body}${TAIL}`;
}

/** Parsed file, or why it is not valid. */
export type ParsedPositionFile =
  | {
      readonly ok: true;
      readonly positions: Position[];
      /** `JSON.stringify` of each position, as stored. */
      readonly lines: string[];
      /**
       * First journal generation that holds changes made after this
       * snapshot (0 for files written before the journal existed).
       */
      readonly journalSeq: number;
    }
  | { readonly ok: false; readonly reason: string };

/** Parse and verify a position file (format, version, count, checksum). */
export function parsePositions(text: string): ParsedPositionFile {
  const open = text.indexOf(ARRAY_OPEN);
  if (open < 0 || !text.endsWith(TAIL)) {
    return { ok: false, reason: 'truncated or not a position file' };
  }
  const body = text.slice(open + ARRAY_OPEN.length, text.length - TAIL.length);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(`${text.slice(0, open)}}`) as Record<string, unknown>;
  } catch (error) {
    return { ok: false, reason: `bad header (${(error as Error).message})` };
  }
  if (header.format !== FORMAT) return { ok: false, reason: 'unknown format' };
  if (header.version !== VERSION) {
    return {
      ok: false,
      reason: `unsupported version ${String(header.version)}`,
    };
  }
  const checksum = createHash('sha256').update(body).digest('hex');
  if (checksum !== header.checksum)
    return { ok: false, reason: 'checksum mismatch' };
  const lines = body === '' ? [] : body.slice(1, -1).split(',\n');
  if (lines.length !== header.count)
    return { ok: false, reason: 'position count mismatch' };
  let positions: unknown;
  try {
    positions = JSON.parse(`[${body}]`);
  } catch (error) {
    return { ok: false, reason: `bad positions (${(error as Error).message})` };
  }
  if (!Array.isArray(positions) || positions.length !== lines.length) {
    return { ok: false, reason: 'position count mismatch' };
  }
  for (const p of positions as unknown[]) {
    if (
      typeof p !== 'object' ||
      p === null ||
      typeof (p as Position).kind !== 'string' ||
      typeof (p as Position).id !== 'string'
    ) {
      return { ok: false, reason: 'malformed position entry' };
    }
  }
  const journalSeq =
    typeof header.journal === 'number' && Number.isSafeInteger(header.journal)
      ? header.journal
      : 0;
  return { ok: true, positions: positions as Position[], lines, journalSeq };
}
