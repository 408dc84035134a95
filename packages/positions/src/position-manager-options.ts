import type {
  ContainerPosition,
  Cursor,
  CursorCommitter,
  FilePosition,
  Instrumentation,
  Position,
  PositionStore,
  SourceRef,
} from '@lc/core';

/** Why an offset was moved backwards (see {@link PositionManager.reset}). */
export type ResetReason =
  'rotated' | 'truncated' | 'copytruncate' | 'inode-reused' | 'new';

/** Options of {@link PositionManager.reset}. */
export interface ResetOptions {
  /**
   * Id of the file identity the content before the reset lives on in, at
   * the same offsets (the copy made by copytruncate). Commits of cursors
   * read before the reset, which still arrive after it, move that
   * identity's position instead of being ignored, so a crash resumes the
   * copy from what was really delivered. Kept in memory only.
   */
  readonly movedTo?: string;
}

/** Options of {@link createPositionManager}. */
export interface PositionManagerOptions extends Instrumentation {
  /** Where positions are persisted. Closed by `shutdown()` unless `closeStoreOnShutdown` is false. */
  store: PositionStore;
  /**
   * Longest a change waits before it is saved, ms. 0 saves each change as
   * soon as the save before it finished (group commit: the commits of every
   * batch acknowledged meanwhile go in one save), so after a crash only
   * what was in flight is read again. @default 0
   */
  flushIntervalMs?: number;
  /**
   * Save changes on their own (after `flushIntervalMs`); false leaves saving
   * to `flush()` and `shutdown()`. @default true
   */
  autoFlush?: boolean;
  /** Also flush once this many updates accumulated; 0 disables. @default 0 */
  flushEveryUpdates?: number;
  /**
   * Remove positions of sources that are gone (deleted/rotated/completed
   * files, destroyed containers, custom kinds) after this many ms without
   * an update. Idle files and stopped containers are kept. @default 86400000 (24 h)
   */
  maxPositionAgeMs?: number;
  /** How often the age cleanup runs, ms; 0 disables. @default 60000 */
  cleanupIntervalMs?: number;
  /**
   * Memory cap on positions. Above it the oldest inactive positions are
   * evicted (counted); active files and running containers never are.
   * @default 50000
   */
  maxPositions?: number;
  /**
   * Compute each file's offset marker at flush time by reading the bytes
   * before the committed offset (after checking dev/ino). @default true
   */
  computeMarkers?: boolean;
  /** Bytes an offset marker covers. @default 64 */
  markerBytes?: number;
  /** Close the store in `shutdown()`. @default true */
  closeStoreOnShutdown?: boolean;
}

/** Counters and gauges of a {@link PositionManager}. */
export interface PositionManagerStats {
  readonly positions: number;
  readonly positionsByKind: Readonly<Record<string, number>>;
  /** Positions changed since the last successful flush. */
  readonly dirty: number;
  readonly updates: number;
  readonly commits: number;
  /** Commits ignored because they would move a position backwards. */
  readonly staleCommits: number;
  readonly resets: number;
  readonly flushes: number;
  readonly flushErrors: number;
  readonly lastFlushDurationMs: number;
  readonly lastFlushPositions: number;
  /** Wall-clock ms of the last successful flush; 0 when none. */
  readonly lastFlushAtMs: number;
  /** True while the last save failed (disk full, read-only, store down); saves are retried. */
  readonly storeFailing: boolean;
  /** Wall-clock ms since saves have been failing; 0 when they succeed. */
  readonly storeFailingSinceMs: number;
  /** The last save error, while failing. */
  readonly lastStoreError?: string;
  readonly cleanups: number;
  readonly lastCleanupDurationMs: number;
  readonly evictions: number;
  readonly errors: number;
}

/**
 * Holds the settled position of every source in memory, persists it to a
 * {@link PositionStore} periodically, on demand and on shutdown.
 * Positions never move backwards except through {@link PositionManager.reset}.
 * After `shutdown()`, updates are ignored, reads still answer and `flush()`
 * resolves without writing.
 */
export interface PositionManager extends CursorCommitter {
  /** Load the store and start the flush/cleanup timers. Idempotent. */
  start(): Promise<void>;
  /** The current position of a source. */
  get(kind: string, id: string): Position | undefined;
  /** All positions, or those of one kind. */
  list(kind?: string): Position[];
  /**
   * Insert or refresh file metadata from a monitor. For a known identity
   * the committed offset (and its marker and counters) is kept: only
   * `commit` moves it forward and only `reset` moves it back. For a new
   * identity, `p.offset` is the starting position.
   */
  upsertFile(p: FilePosition): void;
  /** Same as {@link PositionManager.upsertFile} for containers. */
  upsertContainer(p: ContainerPosition): void;
  /**
   * Move a position back to its start; counted per reason and logged. A
   * file position also gets the next `epoch`: commits of cursors read
   * before the reset (older epoch) are ignored from then on, or go to
   * `options.movedTo` when given.
   */
  reset(
    kind: string,
    id: string,
    reason: ResetReason,
    options?: ResetOptions,
  ): void;
  /** Forget a source; the deletion is persisted at the next flush. */
  remove(kind: string, id: string): void;
  /**
   * Record the settled watermark of a source (`FileCursor` for files,
   * `ContainerCursor` for containers, any JSON for other kinds). A cursor
   * at or behind the current position is ignored and counted, and so is a
   * file cursor of an older `epoch` (read before the last reset); a newer
   * epoch is taken whatever its offset.
   */
  commit(source: SourceRef, cursor: Cursor): void;
  /** Persist every change made so far. Rejects on a store error (kept dirty). */
  flush(): Promise<void>;
  /**
   * Resolves once every change made before the call went through a save:
   * true when durable, false when that save failed or the manager shut
   * down first. Never rejects. Monitors wait on it before they read a file
   * identity they just recorded, so an identity is durable before any of
   * its lines can be delivered.
   */
  whenSaved(): Promise<boolean>;
  /** Stop timers, flush, close the store. Idempotent. */
  shutdown(): Promise<void>;
  stats(): PositionManagerStats;
}
