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
import {
  LcError,
  once,
  positionKey,
  silentLogger,
  systemClock,
} from '@lc/core';
import type { TimerHandle } from '@lc/core';
import { computeOffsetMarker, DEFAULT_MARKER_BYTES } from './file-identity.js';
import { MarkerHandles } from './internal/marker-handles.js';
import { managerMetrics } from './internal/metrics.js';
import {
  bareContainerPosition,
  bareFilePosition,
  compareContainerMarks,
  containerWithMark,
  epochOf,
  fileWithOffset,
  evictionRank,
  isContainerCursor,
  isContainerPosition,
  isFileCursor,
  isFilePosition,
  isGone,
  withEpoch,
} from './internal/merge.js';
import { validateOptions } from './internal/validate.js';

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
  /** Flush dirty positions this often, ms; 0 disables the timer. @default 1000 */
  flushIntervalMs?: number;
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
  /** Stop timers, flush, close the store. Idempotent. */
  shutdown(): Promise<void>;
  stats(): PositionManagerStats;
}

const MAX_TOMBSTONES = 10_000;
/** Bound on remembered `movedTo` redirections (oldest forgotten first). */
const MAX_MOVED = 10_000;
const MARKER_CONCURRENCY = 32;

/** Create a {@link PositionManager}. Throws `LC_ERR_INVALID_OPTION` on bad options. */
export function createPositionManager(
  options: PositionManagerOptions,
): PositionManager {
  const o = validateOptions(options);
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({
    component: 'positions',
  });
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.error({ err: error }, 'position manager error'));
  const metrics = managerMetrics(options.registry);
  const markerBytes = options.markerBytes ?? DEFAULT_MARKER_BYTES;
  const markerHandles = new MarkerHandles();

  const positions = new Map<string, Position>();
  const dirty = new Set<string>();
  const deleted = new Set<string>();
  const tombstones = new Set<string>();
  /** `${key}\u0000${epoch}` → where that epoch's content lives on. */
  const moved = new Map<string, { id: string; epoch: number }>();
  let closed = false;
  let flushChain: Promise<void> = Promise.resolve();
  let flushQueued = false;
  let updatesSinceFlush = 0;
  let flushTimer: TimerHandle | undefined;
  let cleanupTimer: TimerHandle | undefined;
  const s = {
    updates: 0,
    commits: 0,
    staleCommits: 0,
    resets: 0,
    flushes: 0,
    flushErrors: 0,
    lastFlushDurationMs: 0,
    lastFlushPositions: 0,
    lastFlushAtMs: 0,
    cleanups: 0,
    lastCleanupDurationMs: 0,
    evictions: 0,
    errors: 0,
  };

  // Hot-path counts are kept as plain numbers and published to prom-client
  // at each flush and stats() call: a labelled inc() costs more than the
  // commit itself. Metrics lag by at most one flush interval.
  const pending = { commit: 0, stale: 0, upsert: 0 };
  const updatesBy = {
    commit: { inc: () => void pending.commit++ },
    stale: { inc: () => void pending.stale++ },
    upsert: { inc: () => void pending.upsert++ },
  };
  const publish = (): void => {
    for (const op of ['commit', 'stale', 'upsert'] as const) {
      if (pending[op] > 0) metrics.updates.inc({ op }, pending[op]);
      pending[op] = 0;
    }
  };
  const kindCounts = new Map<string, number>();
  const countKind = (kind: string, delta: number): void => {
    kindCounts.set(kind, (kindCounts.get(kind) ?? 0) + delta);
    metrics.positions.inc({ kind }, delta);
  };

  const put = (key: string, p: Position): void => {
    const before = positions.get(key);
    if (before === undefined) countKind(p.kind, 1);
    positions.set(key, p);
    deleted.delete(key);
    dirty.add(key);
    s.updates++;
    if (
      before === undefined &&
      positions.size > Math.max(o.maxPositions, capCheckAt)
    )
      evictOverCap();
    if (o.flushEveryUpdates > 0 && ++updatesSinceFlush >= o.flushEveryUpdates) {
      updatesSinceFlush = 0;
      if (!flushQueued) {
        flushQueued = true;
        flush().catch(onError);
      }
    }
  };

  const drop = (key: string): void => {
    const before = positions.get(key);
    if (before === undefined) return;
    countKind(before.kind, -1);
    positions.delete(key);
    dirty.delete(key);
    deleted.add(key);
    tombstones.add(key);
    if (tombstones.size > MAX_TOMBSTONES) {
      const oldest = tombstones.values().next().value;
      if (oldest !== undefined) tombstones.delete(oldest);
    }
  };

  /**
   * When a scan could not get below the cap (too many active sources), the
   * next scan waits for another 10 % of growth instead of running (and
   * warning) on every new position.
   */
  let capCheckAt = 0;
  function evictOverCap(): void {
    capCheckAt = 0;
    const target = Math.max(0, Math.floor(o.maxPositions * 0.9));
    const candidates: Array<[string, Position, number]> = [];
    for (const [key, p] of positions) {
      const rank = evictionRank(p);
      if (rank !== undefined) candidates.push([key, p, rank]);
    }
    candidates.sort(
      (a, b) => a[2] - b[2] || a[1].updatedAtMs - b[1].updatedAtMs,
    );
    let evicted = 0;
    for (const [key] of candidates) {
      if (positions.size <= target) break;
      drop(key);
      evicted++;
    }
    if (evicted > 0) {
      s.evictions += evicted;
      metrics.evictions.inc({ cause: 'cap' }, evicted);
      logger.warn(
        { evicted, maxPositions: o.maxPositions },
        'position cap reached: evicted the oldest inactive positions',
      );
    }
    if (positions.size > target) {
      capCheckAt =
        positions.size + Math.max(1, Math.floor(o.maxPositions * 0.1));
      logger.warn(
        { positions: positions.size, maxPositions: o.maxPositions },
        'position cap reached but the rest are active; keeping them',
      );
    }
  }

  const ignoreClosed = (): boolean => {
    if (closed) metrics.updates.inc({ op: 'after_shutdown' });
    return closed;
  };

  function commit(source: SourceRef, cursor: Cursor): void {
    if (ignoreClosed()) return;
    const key = positionKey(source);
    if (tombstones.has(key)) {
      s.staleCommits++;
      updatesBy.stale.inc();
      return;
    }
    const now = clock.now();
    const existing = positions.get(key);
    let next: Position | undefined;
    if (source.kind === 'file' && isFileCursor(cursor)) {
      const base = isFilePosition(existing)
        ? existing
        : bareFilePosition(source.id, now);
      const epoch = epochOf(cursor);
      // A cursor from before the last reset belongs to content that is gone
      // (truncated, copytruncated): the dispatcher acknowledges in arrival
      // order, so such commits can land after the reset. They must not
      // become the offset of the new content.
      if (existing !== undefined && epoch < epochOf(base)) {
        const to = moved.get(`${key}\u0000${epoch}`);
        if (to !== undefined) {
          commit(
            { kind: 'file', id: to.id },
            to.epoch === 0
              ? { offset: cursor.offset, line: cursor.line }
              : { offset: cursor.offset, line: cursor.line, epoch: to.epoch },
          );
          return;
        }
      }
      const stale =
        existing !== undefined &&
        (epoch < epochOf(base) ||
          (epoch === epochOf(base) && cursor.offset <= base.offset));
      next = stale
        ? undefined
        : fileWithOffset(base, cursor.offset, cursor.line, epoch, now);
    } else if (source.kind === 'container' && isContainerCursor(cursor)) {
      const base = isContainerPosition(existing)
        ? existing
        : bareContainerPosition(source.id, now);
      const newer =
        existing === undefined ||
        compareContainerMarks(
          cursor.timestampNs,
          cursor.linesAtTimestamp,
          base.lastTimestampNs,
          base.linesAtLastTimestamp,
        ) > 0;
      next = newer ? containerWithMark(base, cursor, now) : undefined;
    } else if (source.kind === 'file' || source.kind === 'container') {
      s.errors++;
      metrics.errors.inc({ type: 'cursor' });
      logger.warn({ source, cursor }, 'ignored a malformed cursor');
      return;
    } else {
      next = { kind: source.kind, id: source.id, cursor, updatedAtMs: now };
    }
    if (next === undefined) {
      s.staleCommits++;
      updatesBy.stale.inc();
      return;
    }
    s.commits++;
    updatesBy.commit.inc();
    put(key, next);
  }

  function upsertFile(p: FilePosition): void {
    if (ignoreClosed()) return;
    const key = positionKey(p);
    tombstones.delete(key);
    const existing = positions.get(key);
    // The epoch, like the offset, is the manager's: only reset moves it.
    const next: FilePosition = isFilePosition(existing)
      ? withEpoch(
          {
            ...p,
            offset: existing.offset,
            offsetMarker: existing.offsetMarker,
            logCount: existing.logCount,
            bytesRead: existing.bytesRead,
            updatedAtMs: clock.now(),
          },
          epochOf(existing),
        )
      : { ...p, updatedAtMs: clock.now() };
    updatesBy.upsert.inc();
    put(key, next);
  }

  function upsertContainer(p: ContainerPosition): void {
    if (ignoreClosed()) return;
    const key = positionKey(p);
    tombstones.delete(key);
    const existing = positions.get(key);
    const next: ContainerPosition = isContainerPosition(existing)
      ? {
          ...p,
          lastTimestampNs: existing.lastTimestampNs,
          lastLineHash: existing.lastLineHash,
          linesAtLastTimestamp: existing.linesAtLastTimestamp,
          updatedAtMs: clock.now(),
        }
      : { ...p, updatedAtMs: clock.now() };
    updatesBy.upsert.inc();
    put(key, next);
  }

  function reset(
    kind: string,
    id: string,
    reason: ResetReason,
    options?: ResetOptions,
  ): void {
    if (ignoreClosed()) return;
    const key = positionKey({ kind, id });
    s.resets++;
    metrics.resets.inc({ reason });
    const existing = positions.get(key);
    logger.info(
      {
        kind,
        id,
        reason,
        fromOffset: isFilePosition(existing) ? existing.offset : undefined,
        ...(options?.movedTo === undefined ? {} : { movedTo: options.movedTo }),
      },
      'position reset',
    );
    if (existing === undefined) return;
    const now = clock.now();
    let next: Position;
    if (isFilePosition(existing)) {
      const movedTo = options?.movedTo;
      if (movedTo !== undefined && movedTo !== id) {
        const target = positions.get(positionKey({ kind, id: movedTo }));
        moved.set(`${key}\u0000${epochOf(existing)}`, {
          id: movedTo,
          epoch: isFilePosition(target) ? epochOf(target) : 0,
        });
        if (moved.size > MAX_MOVED) {
          const oldest = moved.keys().next().value;
          if (oldest !== undefined) moved.delete(oldest);
        }
      }
      next = {
        ...existing,
        offset: 0,
        offsetMarker: '',
        logCount: 0,
        epoch: epochOf(existing) + 1,
        updatedAtMs: now,
      };
    } else if (isContainerPosition(existing)) {
      next = {
        ...existing,
        lastTimestampNs: '',
        lastLineHash: '',
        linesAtLastTimestamp: 0,
        updatedAtMs: now,
      };
    } else {
      next = { kind, id, cursor: null, updatedAtMs: now };
    }
    metrics.updates.inc({ op: 'reset' });
    put(key, next);
  }

  function remove(kind: string, id: string): void {
    if (ignoreClosed()) return;
    metrics.updates.inc({ op: 'remove' });
    drop(positionKey({ kind, id }));
  }

  async function withMarker(p: FilePosition): Promise<FilePosition> {
    if (p.path === '' || p.offset === 0) return p;
    try {
      const marker = await markerHandles.use(p, (handle) =>
        computeOffsetMarker(handle, p.offset, markerBytes),
      );
      return marker === undefined || marker === ''
        ? p
        : { ...p, offsetMarker: marker };
    } catch {
      metrics.errors.inc({ type: 'marker' });
      return p; // gone or unreadable: saved without a marker, resume unverified
    }
  }

  async function doFlush(): Promise<void> {
    // Every flush, even an empty one, ages the kept marker handles.
    await markerHandles.beginFlush();
    publish();
    flushQueued = false;
    updatesSinceFlush = 0;
    if (dirty.size === 0 && deleted.size === 0) return;
    const started = clock.monotonicNow();
    const keys = [...dirty];
    const deletes = [...deleted];
    dirty.clear();
    deleted.clear();
    const upserts: Position[] = [];
    const needMarker: Array<[string, FilePosition]> = [];
    for (const key of keys) {
      const p = positions.get(key);
      if (p === undefined) continue;
      if (
        o.computeMarkers &&
        isFilePosition(p) &&
        p.offset > 0 &&
        p.offsetMarker === '' &&
        p.path !== ''
      )
        needMarker.push([key, p]);
      else upserts.push(p);
    }
    for (let i = 0; i < needMarker.length; i += MARKER_CONCURRENCY) {
      const chunk = needMarker.slice(i, i + MARKER_CONCURRENCY);
      const marked = await Promise.all(chunk.map(([, p]) => withMarker(p)));
      chunk.forEach(([key, p], j) => {
        const m = marked[j] as FilePosition;
        if (positions.get(key) === p) positions.set(key, m);
        upserts.push(m);
      });
    }
    try {
      await store.save({ upserts, deletes });
    } catch (error) {
      for (const key of keys) if (positions.has(key)) dirty.add(key);
      for (const key of deletes) if (!positions.has(key)) deleted.add(key);
      s.flushErrors++;
      s.errors++;
      metrics.flushes.inc({ result: 'error' });
      metrics.errors.inc({ type: 'flush' });
      throw error;
    }
    const ms = clock.monotonicNow() - started;
    s.flushes++;
    s.lastFlushDurationMs = ms;
    s.lastFlushPositions = upserts.length;
    s.lastFlushAtMs = clock.now();
    metrics.flushes.inc({ result: 'ok' });
    metrics.flushDuration.observe(ms / 1000);
  }

  function flush(): Promise<void> {
    if (closed) return flushChain.catch(() => {});
    const run = flushChain.catch(() => {}).then(doFlush);
    flushChain = run;
    return run;
  }

  function cleanup(): void {
    const started = clock.monotonicNow();
    const cutoff = clock.now() - o.maxPositionAgeMs;
    let evicted = 0;
    for (const [key, p] of positions) {
      if (p.updatedAtMs < cutoff && isGone(p)) {
        drop(key);
        evicted++;
      }
    }
    if (evicted > 0) {
      s.evictions += evicted;
      metrics.evictions.inc({ cause: 'age' }, evicted);
      logger.info({ evicted }, 'removed stale positions');
    }
    s.cleanups++;
    s.lastCleanupDurationMs = clock.monotonicNow() - started;
    metrics.cleanupDuration.observe(s.lastCleanupDurationMs / 1000);
  }

  function scheduleFlush(): void {
    if (closed || o.flushIntervalMs === 0) return;
    flushTimer = clock.setTimeout(() => {
      flushTimer = undefined;
      flush().catch(onError).finally(scheduleFlush);
    }, o.flushIntervalMs);
    flushTimer.unref();
  }

  function scheduleCleanup(): void {
    if (closed || o.cleanupIntervalMs === 0) return;
    cleanupTimer = clock.setTimeout(() => {
      cleanupTimer = undefined;
      try {
        cleanup();
      } catch (error) {
        metrics.errors.inc({ type: 'cleanup' });
        onError(error);
      }
      scheduleCleanup();
    }, o.cleanupIntervalMs);
    cleanupTimer.unref();
  }

  const start = once(async () => {
    if (closed) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'position manager is shut down',
      });
    }
    let loaded: Position[];
    try {
      loaded = await store.load();
    } catch (error) {
      s.errors++;
      metrics.errors.inc({ type: 'load' });
      throw error;
    }
    for (const p of loaded) {
      const key = positionKey(p);
      if (positions.has(key) || tombstones.has(key)) continue;
      positions.set(key, p);
      countKind(p.kind, 1);
    }
    logger.info({ positions: loaded.length }, 'positions loaded');
    scheduleFlush();
    scheduleCleanup();
  });

  const shutdown = once(async () => {
    if (flushTimer !== undefined) clock.clearTimeout(flushTimer);
    if (cleanupTimer !== undefined) clock.clearTimeout(cleanupTimer);
    let failure: unknown;
    try {
      await flush();
    } catch (error) {
      failure = error;
    }
    closed = true;
    if (flushTimer !== undefined) clock.clearTimeout(flushTimer);
    await markerHandles.closeAll();
    if (o.closeStoreOnShutdown) await store.close();
    if (failure !== undefined) throw failure;
  });

  return {
    start,
    get: (kind, id) => positions.get(positionKey({ kind, id })),
    list: (kind) =>
      kind === undefined
        ? [...positions.values()]
        : [...positions.values()].filter((p) => p.kind === kind),
    upsertFile,
    upsertContainer,
    reset,
    remove,
    commit,
    flush,
    shutdown,
    stats() {
      publish();
      const positionsByKind: Record<string, number> = {};
      for (const [kind, n] of kindCounts) if (n > 0) positionsByKind[kind] = n;
      return {
        ...s,
        positions: positions.size,
        positionsByKind,
        dirty: dirty.size,
      };
    },
  };
}
