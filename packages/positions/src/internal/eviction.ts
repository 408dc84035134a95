import type { Position } from '@lc/core';
import { evictionRank, isGone } from './merge.js';

/**
 * Keys to evict so that at most `target` positions remain: inactive ones
 * only (gone first, then idle files and stopped containers), oldest update
 * first. Active files and running containers are never chosen, so fewer
 * may be returned than needed.
 */
export function overCapVictims(
  positions: ReadonlyMap<string, Position>,
  target: number,
): string[] {
  const candidates: Array<[string, Position, number]> = [];
  for (const [key, p] of positions) {
    const rank = evictionRank(p);
    if (rank !== undefined) candidates.push([key, p, rank]);
  }
  candidates.sort((a, b) => a[2] - b[2] || a[1].updatedAtMs - b[1].updatedAtMs);
  const excess = Math.max(0, positions.size - target);
  return candidates.slice(0, excess).map(([key]) => key);
}

/** Keys of gone sources (see `isGone`) last updated before `cutoffMs`. */
export function expiredKeys(
  positions: ReadonlyMap<string, Position>,
  cutoffMs: number,
): string[] {
  const out: string[] = [];
  for (const [key, p] of positions)
    if (p.updatedAtMs < cutoffMs && isGone(p)) out.push(key);
  return out;
}
