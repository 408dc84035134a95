import type { Clock, FilePosition } from '@lc/core';
import type {
  FilePositionTracker,
  FileResetReason,
} from '../file-monitor-options.js';
import { fileWatchSince, recordFileWatches } from '../record-file-watches.js';
import type { TailedFile } from './tailed-file.js';

/**
 * The monitor's view of the position tracker: committed positions of file
 * identities, and the metadata written back as files are read. Upsert
 * failures go to `onError`; they never stop reading.
 */
export class FilePositions {
  private readonly tracker: FilePositionTracker;
  private readonly clock: Clock;
  private readonly onError: (error: unknown) => void;

  constructor(
    tracker: FilePositionTracker,
    clock: Clock,
    onError: (error: unknown) => void,
  ) {
    this.tracker = tracker;
    this.clock = clock;
    this.onError = onError;
  }

  /** Every saved file position. */
  list(): FilePosition[] {
    return this.tracker
      .list('file')
      .filter((p): p is FilePosition => p.kind === 'file');
  }

  /**
   * Record the include globs not recorded as watched yet (see
   * `recordFileWatches`); true when something was recorded.
   */
  recordWatches(include: readonly string[], sinceMs: number): boolean {
    const t = this.tracker;
    if (t.commit === undefined) return false;
    const commit = t.commit.bind(t);
    return recordFileWatches(
      { get: (kind, id) => t.get(kind, id), commit },
      include,
      sinceMs,
    );
  }

  /** Since when files of `pattern` are watched, if recorded. */
  watchSince(pattern: string): number | undefined {
    return fileWatchSince(this.tracker, pattern);
  }

  /** The committed position of identity `id`, if any. */
  committed(id: string): FilePosition | undefined {
    const p = this.tracker.get('file', id);
    return p?.kind === 'file' ? (p as FilePosition) : undefined;
  }

  /** Save the position of `id` again as it is, so it does not expire. */
  refresh(id: string): void {
    const p = this.committed(id);
    if (p === undefined) return;
    try {
      this.tracker.upsertFile({ ...p, updatedAtMs: this.clock.now() });
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Move an identity back to 0 (next epoch); see `FilePositionTracker.reset`.
   * Arguments are passed through as given.
   */
  reset(
    ...args: [
      id: string,
      reason: FileResetReason,
      options?: { readonly movedTo?: string },
    ]
  ): void {
    this.tracker.reset('file', ...args);
  }

  /**
   * The position of `f` with `status`; `offset`, `marker` and `logCount`
   * default to the committed ones (the marker only when the offset is the
   * committed offset).
   */
  positionOf(
    f: TailedFile,
    status: FilePosition['status'],
    offset?: number,
    marker?: string,
    logCount?: number,
  ): FilePosition {
    const saved = this.committed(f.id);
    const useOffset = offset ?? saved?.offset ?? 0;
    return f.toPosition(
      useOffset,
      marker ??
        (saved !== undefined && saved.offset === useOffset
          ? saved.offsetMarker
          : ''),
      logCount ?? saved?.logCount ?? 0,
      saved?.bytesRead ?? 0,
      status,
      this.clock.now(),
    );
  }

  /**
   * Give a saved identity that is gone from disk another status (it was
   * deleted while the monitor was down, or its content moved to a
   * compressed copy): gone identities expire with the tracker's age
   * cleanup instead of being kept as live files forever.
   */
  retire(saved: FilePosition, status: 'deleted' | 'rotated'): void {
    try {
      this.tracker.upsertFile({
        ...saved,
        status,
        updatedAtMs: this.clock.now(),
      });
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Resolves once what was recorded so far is durable (or its save failed:
   * reading goes on, the store's failure is reported where it happens).
   * Immediate with a tracker that cannot tell.
   */
  async durable(): Promise<void> {
    await this.tracker.whenSaved?.();
  }

  /**
   * Commit the end of the last complete line read from `f` as its
   * position: only for an identity none of whose lines is in flight (an
   * excluded one, whose lines are dropped by the user's choice).
   */
  commitRead(f: TailedFile): void {
    const offset = f.splitter.lineStartOffset;
    const saved = this.committed(f.id);
    if (
      this.tracker.commit === undefined ||
      (saved !== undefined &&
        (saved.epoch ?? 0) === f.epoch &&
        saved.offset >= offset)
    )
      return;
    const line = f.splitter.lastLineNo;
    try {
      this.tracker.commit(
        f.source,
        f.epoch === 0 ? { offset, line } : { offset, line, epoch: f.epoch },
      );
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Write the position of `f` (status derived from its state unless
   * given). A first position of an identity marks it `unsaved`.
   */
  upsert(
    f: TailedFile,
    offset?: number,
    marker?: string,
    status?: FilePosition['status'],
    logCount?: number,
  ): void {
    const s =
      status ??
      (f.state === 'active' ? (f.finishOnly ? 'rotated' : 'active') : f.state);
    try {
      const saved = this.committed(f.id);
      if (saved === undefined) f.unsaved = true;
      const p = this.positionOf(f, s, offset, marker, logCount);
      // Not decided yet and its head unread (renamed or deleted before its
      // first open): the saved head stays, as it is what tells a reused
      // inode from the saved file when it is decided. An empty one there
      // resumed the new content at the old content's offset.
      const headUnread = !f.initialized && f.fingerprintBytes === 0;
      this.tracker.upsertFile(
        headUnread && saved !== undefined && saved.fingerprintBytes > 0
          ? {
              ...p,
              fingerprint: saved.fingerprint,
              fingerprintBytes: saved.fingerprintBytes,
            }
          : p,
      );
    } catch (error) {
      this.onError(error);
    }
  }
}
