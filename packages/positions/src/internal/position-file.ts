import { createHash } from 'node:crypto';
import type { Position } from '@lc/core';

const FORMAT = 'lc-positions';
const VERSION = 1;

/**
 * Serialise positions to the store's file format: a JSON object whose
 * `positions` array holds one position per line (readable, diffable), and a
 * SHA-256 `checksum` over those lines so a torn or edited file is detected.
 */
export function serializePositions(
  positions: Iterable<Position>,
  savedAtMs: number,
): string {
  const lines: string[] = [];
  for (const p of positions) lines.push(JSON.stringify(p));
  const body = lines.join('\n');
  const checksum = createHash('sha256').update(body).digest('hex');
  const header = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    savedAtMs,
    count: lines.length,
    checksum,
  });
  return `${header.slice(0, -1)},"positions":[${lines.length === 0 ? '' : `\n${lines.join(',\n')}\n`}]}\n`;
}

/** Parsed file, or why it is not valid. */
export type ParsedPositionFile =
  | {
      readonly ok: true;
      readonly positions: Position[];
      readonly savedAtMs: number;
    }
  | { readonly ok: false; readonly reason: string };

/** Parse and verify a position file (format, version, count, checksum). */
export function parsePositions(text: string): ParsedPositionFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      reason: `not valid JSON (${(error as Error).message})`,
    };
  }
  if (typeof doc !== 'object' || doc === null)
    return { ok: false, reason: 'not an object' };
  const d = doc as Record<string, unknown>;
  if (d.format !== FORMAT) return { ok: false, reason: 'unknown format' };
  if (d.version !== VERSION)
    return { ok: false, reason: `unsupported version ${String(d.version)}` };
  if (!Array.isArray(d.positions))
    return { ok: false, reason: 'no positions array' };
  if (d.count !== d.positions.length)
    return { ok: false, reason: 'position count mismatch' };
  const lines: string[] = [];
  for (const p of d.positions as unknown[]) {
    if (
      typeof p !== 'object' ||
      p === null ||
      typeof (p as Position).kind !== 'string' ||
      typeof (p as Position).id !== 'string'
    ) {
      return { ok: false, reason: 'malformed position entry' };
    }
    lines.push(JSON.stringify(p));
  }
  const checksum = createHash('sha256').update(lines.join('\n')).digest('hex');
  if (checksum !== d.checksum)
    return { ok: false, reason: 'checksum mismatch' };
  return {
    ok: true,
    positions: d.positions as Position[],
    savedAtMs: typeof d.savedAtMs === 'number' ? d.savedAtMs : 0,
  };
}
