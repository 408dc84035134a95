import type {
  ContainerPosition,
  Cursor,
  FilePosition,
  Position,
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
import { DEFAULT_MARKER_BYTES } from './file-identity.js';
import { fillMarkers } from './internal/fill-markers.js';
import { MarkerHandles } from './internal/marker-handles.js';
import {
  emptyCounters,
  managerMetrics,
  PendingUpdateCounts,
} from './internal/metrics.js';
import { epochOf, isFileCursor, isFilePosition } from './internal/merge.js';
import { MovedContent } from './internal/moved-content.js';
import {
  applyCursor,
  mergeContainerUpsert,
  mergeFileUpsert,
  resetPosition,
} from './internal/next-position.js';
import { expiredKeys, overCapVictims } from './internal/eviction.js';
import { FlushLoop } from './internal/flush-loop.js';
import { PositionTable } from './internal/position-table.js';
import { validateOptions } from './internal/validate.js';
import type {
  PositionManager,
  PositionManagerOptions,
  ResetOptions,
  ResetReason,
} from './position-manager-options.js';

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

  const loop = new FlushLoop({
    delayMs: o.flushIntervalMs,
    auto: o.autoFlush,
    clock,
    logger,
    save: doFlush,
    onError,
  });
  const table = new PositionTable((kind, delta) =>
    metrics.positions.inc({ kind }, delta),
  );
  const positions = table.positions;
  const moved = new MovedContent();
  let closed = false;
  let updatesSinceFlush = 0;
  let cleanupTimer: TimerHandle | undefined;
  const s = emptyCounters();

  const updatesBy = new PendingUpdateCounts(metrics.updates);

  const put = (key: string, p: Position): void => {
    const added = table.put(key, p);
    s.updates++;
    if (added && table.size > Math.max(o.maxPositions, capCheckAt))
      evictOverCap();
    loop.changed();
    if (o.flushEveryUpdates > 0 && ++updatesSinceFlush >= o.flushEveryUpdates) {
      updatesSinceFlush = 0;
      flush().catch(onError);
    }
  };

  const drop = (key: string): void => {
    if (table.drop(key)) loop.changed();
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
    const victims = overCapVictims(positions, target);
    for (const key of victims) drop(key);
    const evicted = victims.length;
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
    if (table.isTombstoned(key)) {
      s.staleCommits++;
      updatesBy.stale++;
      return;
    }
    const existing = positions.get(key);
    // A cursor from before the last reset belongs to content that is gone
    // (truncated, copytruncated): the dispatcher acknowledges in arrival
    // order, so such commits can land after the reset. They must not become
    // the offset of the new content; they go to the copy, if there is one.
    if (
      source.kind === 'file' &&
      isFilePosition(existing) &&
      isFileCursor(cursor) &&
      epochOf(cursor) < epochOf(existing)
    ) {
      const to = moved.get(key, epochOf(cursor));
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
    const next = applyCursor(existing, source, cursor, clock.now());
    if (next === 'malformed') {
      s.errors++;
      metrics.errors.inc({ type: 'cursor' });
      logger.warn({ source, cursor }, 'ignored a malformed cursor');
      return;
    }
    if (next === 'stale') {
      s.staleCommits++;
      updatesBy.stale++;
      return;
    }
    s.commits++;
    updatesBy.commit++;
    put(key, next);
  }

  function upsertFile(p: FilePosition): void {
    if (ignoreClosed()) return;
    const key = positionKey(p);
    table.revive(key);
    // The epoch, like the offset, is the manager's: only reset moves it.
    const next = mergeFileUpsert(positions.get(key), p, clock.now());
    updatesBy.upsert++;
    put(key, next);
  }

  function upsertContainer(p: ContainerPosition): void {
    if (ignoreClosed()) return;
    const key = positionKey(p);
    table.revive(key);
    const next = mergeContainerUpsert(positions.get(key), p, clock.now());
    updatesBy.upsert++;
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
    const movedTo = options?.movedTo;
    if (isFilePosition(existing) && movedTo !== undefined && movedTo !== id) {
      const target = positions.get(positionKey({ kind, id: movedTo }));
      const to = {
        id: movedTo,
        epoch: isFilePosition(target) ? epochOf(target) : 0,
      };
      moved.set(key, epochOf(existing), to);
      // What was committed here before the reset is delivered content the
      // copy holds at the same offsets (commits can land between the copy
      // being found and this reset): the copy resumes after it, not before.
      if (existing.offset > 0)
        commit(
          { kind, id: movedTo },
          {
            offset: existing.offset,
            line: existing.logCount,
            ...(to.epoch === 0 ? {} : { epoch: to.epoch }),
          },
        );
    }
    const next = resetPosition(existing, clock.now());
    metrics.updates.inc({ op: 'reset' });
    put(key, next);
  }

  function remove(kind: string, id: string): void {
    if (ignoreClosed()) return;
    metrics.updates.inc({ op: 'remove' });
    drop(positionKey({ kind, id }));
  }

  async function doFlush(): Promise<void> {
    // Every flush, even an empty one, ages the kept marker handles.
    await markerHandles.beginFlush();
    updatesBy.publish();
    updatesSinceFlush = 0;
    if (!table.hasChanges) return;
    const started = clock.monotonicNow();
    const changes = table.takeChanges();
    const { keys, deletes } = changes;
    const current: Array<[string, Position]> = [];
    for (const key of keys) {
      const p = positions.get(key);
      if (p !== undefined) current.push([key, p]);
    }
    const upserts = o.computeMarkers
      ? await fillMarkers(
          current.map(([, p]) => p),
          markerHandles,
          markerBytes,
          () => metrics.errors.inc({ type: 'marker' }),
        )
      : current.map(([, p]) => p);
    current.forEach(([key, p], i) =>
      table.refresh(key, p, upserts[i] as Position),
    );
    try {
      await store.save({ upserts, deletes });
    } catch (error) {
      table.requeue(changes);
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
    if (closed) return Promise.resolve();
    return loop.flush();
  }

  function cleanup(): void {
    const started = clock.monotonicNow();
    const expired = expiredKeys(positions, clock.now() - o.maxPositionAgeMs);
    for (const key of expired) drop(key);
    const evicted = expired.length;
    if (evicted > 0) {
      s.evictions += evicted;
      metrics.evictions.inc({ cause: 'age' }, evicted);
      logger.info({ evicted }, 'removed stale positions');
    }
    s.cleanups++;
    s.lastCleanupDurationMs = clock.monotonicNow() - started;
    metrics.cleanupDuration.observe(s.lastCleanupDurationMs / 1000);
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
    for (const p of loaded) table.load(positionKey(p), p);
    logger.info({ positions: loaded.length }, 'positions loaded');
    loop.begin();
    scheduleCleanup();
  });

  const shutdown = once(async () => {
    if (cleanupTimer !== undefined) clock.clearTimeout(cleanupTimer);
    let failure: unknown;
    try {
      await flush();
    } catch (error) {
      failure = error;
    }
    closed = true;
    loop.stop();
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
    whenSaved: () => (closed ? Promise.resolve(false) : loop.whenSaved()),
    shutdown,
    stats() {
      updatesBy.publish();
      const health = loop.health();
      return {
        ...s,
        positions: positions.size,
        positionsByKind: table.byKind(),
        dirty: table.dirtyCount,
        storeFailing: health.failing,
        storeFailingSinceMs: health.failingSinceMs,
        ...(health.lastError === undefined
          ? {}
          : { lastStoreError: health.lastError }),
      };
    },
  };
}
