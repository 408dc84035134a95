import type { Cursor, Position, SourceRef } from '@lc/core';

/** Position kind of the "watched since" markers of file sources. */
export const FILE_WATCH_KIND = 'file-watch';

/** What recording a watch needs from a position tracker. */
export interface FileWatchTracker {
  get(kind: string, id: string): Position | undefined;
  commit(source: SourceRef, cursor: Cursor): void;
}

/**
 * Record, for each include glob not recorded yet, that files matching it
 * are watched since `sinceMs` (a `file-watch` position). A later monitor
 * that finds a live file with no saved identity (every earlier run was
 * killed before it saved one, a crash loop) reads the generations rotated
 * away next to it since then from their beginning, instead of taking them
 * for archives from before it was watching. `createFileMonitor` records
 * them at `start()`; an agent that wants them earlier (at process start)
 * calls this first. Returns true when something was recorded (save it
 * before opening files). The earliest time is kept.
 */
export function recordFileWatches(
  tracker: FileWatchTracker,
  include: readonly string[],
  sinceMs: number,
): boolean {
  let recorded = false;
  for (const pattern of include) {
    if (tracker.get(FILE_WATCH_KIND, pattern) !== undefined) continue;
    tracker.commit({ kind: FILE_WATCH_KIND, id: pattern }, { sinceMs });
    recorded = true;
  }
  return recorded;
}

/** When files of `pattern` have been watched since, ms; undefined when unknown. */
export function fileWatchSince(
  tracker: Pick<FileWatchTracker, 'get'>,
  pattern: string,
): number | undefined {
  const p = tracker.get(FILE_WATCH_KIND, pattern);
  if (p === undefined || !('cursor' in p)) return undefined;
  const c = p.cursor as { sinceMs?: unknown } | null;
  return typeof c?.sinceMs === 'number' ? c.sinceMs : undefined;
}
