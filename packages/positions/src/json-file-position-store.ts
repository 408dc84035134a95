import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { PositionBackup, PositionChanges, PositionStore } from '@lc/core';
import { LcError, positionKey, silentLogger, systemClock } from '@lc/core';
import type { TimerHandle } from '@lc/core';
import { storeMetrics } from './internal/metrics.js';
import {
  encodeJournalRecord,
  JournalAppender,
  journalPath,
  removeJournals,
  replayJournals,
} from './internal/position-journal.js';
import type { JournalFile } from './internal/position-journal.js';
import { recoverSnapshot } from './internal/recover-snapshot.js';
import { entriesOf, linesOf, storeIoError } from './internal/store-entries.js';
import type { Entry } from './internal/store-entries.js';
import { SnapshotFile } from './internal/snapshot-file.js';
import { resolveStoreOptions } from './json-file-position-store-options.js';
import type { JsonFilePositionStoreOptions } from './json-file-position-store-options.js';

const MIN_COMPACT_BYTES = 1024 * 1024;
const STORE = 'json';

/**
 * A {@link PositionStore} in one human-readable JSON snapshot plus an
 * append-only journal (`<path>.journal.<n>`): each save appends one
 * checksummed line, so a commit costs one small write however many
 * positions exist, and the journal is folded into a new snapshot (written
 * atomically, with rotated backups) from time to time and on close. Loading
 * replays the journal over the snapshot up to its last valid line; a torn
 * or damaged tail is counted (`lc_positions_journal_recoveries_total`) and
 * logged with the file and offset. One process per file. After `close`,
 * every call rejects `LC_ERR_SHUT_DOWN`.
 */
export function createJsonFilePositionStore(
  options: JsonFilePositionStoreOptions,
): PositionStore {
  const { path, backupCount, strategy, fsync, fsyncIntervalMs, compactAfter } =
    resolveStoreOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({
    component: 'positions-json',
    path,
  });
  const metrics = storeMetrics(options.registry);
  const dir = dirname(path);
  const base = basename(path);
  const snapshot = new SnapshotFile(path, dir, base, fsync !== 'never');

  let state: Map<string, Entry> | undefined;
  let mainExists = false;
  let backupSeq = 0;
  /** Journal generation the snapshot on disk starts replay from. */
  let snapshotSeq = 0;
  let snapshotBytes = 0;
  /** Journals on disk not yet folded into the snapshot, oldest first. */
  let journals: JournalFile[] = [];
  /** Valid bytes of the newest journal (appends continue after them). */
  let newestValidBytes = 0;
  let appender: JournalAppender | undefined;
  /** Journals older than the snapshot, deleted before the first write. */
  let stale: JournalFile[] = [];
  let prepared = false;
  let appendedSinceCompaction = false;
  let syncTimer: TimerHandle | undefined;
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain
      .catch(() => {})
      .then(() => {
        if (closed) {
          throw new LcError({
            code: 'LC_ERR_SHUT_DOWN',
            message: `position store ${path} is closed`,
          });
        }
        return fn();
      });
    chain = run;
    return run;
  };

  const ioError = (error: unknown, what: string): LcError =>
    storeIoError(error, what, path, () =>
      metrics.errors.inc({ store: STORE, type: what }),
    );

  /**
   * Write `next` as the snapshot, with a fresh, empty journal generation
   * after it, and drop the journals it folds in. A failure leaves the old
   * snapshot and every journal in place (load replays them in order).
   */
  async function writeSnapshot(
    next: Map<string, Entry>,
    keepBackup: boolean,
  ): Promise<void> {
    await prepareWrite();
    const seq = Math.max(snapshotSeq, journals.at(-1)?.seq ?? 0) + 1;
    const fresh =
      compactAfter === 0
        ? undefined
        : await JournalAppender.open(journalPath(dir, base, seq), seq, 0);
    const previous = appender;
    appender = fresh;
    if (fresh !== undefined) journals.push({ seq, path: fresh.path });
    newestValidBytes = 0;
    await previous?.close().catch(() => {});
    const link =
      keepBackup && backupCount > 0 && mainExists ? ++backupSeq : undefined;
    snapshotBytes = await snapshot.write(linesOf(next), clock.now(), seq, link);
    mainExists = true;
    snapshotSeq = seq;
    if (link !== undefined) {
      metrics.backups.inc({ store: STORE });
      await snapshot.pruneBackups(backupCount);
    }
    const folded = journals.filter((j) => j.seq < seq);
    journals = journals.filter((j) => j.seq >= seq);
    await removeJournals(folded);
    appendedSinceCompaction = false;
  }

  async function recover(
    reason: string,
  ): Promise<{ map: Map<string, Entry>; journalSeq: number }> {
    const got = await recoverSnapshot({
      snapshot,
      path,
      reason,
      strategy,
      keepCorrupt: mainExists,
      clock,
      metrics,
      logger,
      store: STORE,
    });
    mainExists = false;
    return { map: entriesOf(got), journalSeq: got.journalSeq };
  }

  /** Apply the journals from `fromSeq` on, each up to its last valid line. */
  async function replay(
    map: Map<string, Entry>,
    fromSeq: number,
  ): Promise<void> {
    const got = await replayJournals(dir, base, fromSeq, {
      upsert: (p, line) => map.set(positionKey(p), { p, line }),
      remove: (key) => map.delete(key),
      damaged: (file, validBytes, droppedBytes, reason) => {
        metrics.journalRecoveries.inc({ store: STORE });
        metrics.journalDroppedBytes.inc({ store: STORE }, droppedBytes);
        logger.warn(
          { file, offset: validBytes, droppedBytes, reason },
          'position journal damaged: recovered up to its last valid record',
        );
      },
    });
    ({ journals, newestValidBytes, stale } = got);
  }

  /** Before the first write: the directory, and leftovers of crashed writes. */
  async function prepareWrite(): Promise<void> {
    if (prepared) return;
    await mkdir(dir, { recursive: true });
    await snapshot.removeTempFiles();
    await removeJournals(stale);
    stale = [];
    prepared = true;
  }

  async function ensureLoaded(): Promise<Map<string, Entry>> {
    if (state !== undefined) return state;
    const backups = await snapshot.backups();
    backupSeq = backups[0]?.seq ?? 0;
    let got: Awaited<ReturnType<SnapshotFile['read']>>;
    try {
      got = await snapshot.read();
    } catch (error) {
      throw ioError(error, 'load');
    }
    mainExists = got !== undefined;
    let loaded: { map: Map<string, Entry>; journalSeq: number };
    if (got !== undefined && 'positions' in got)
      loaded = { map: entriesOf(got), journalSeq: got.journalSeq };
    else if (got !== undefined) loaded = await recover(got.reason);
    else if (backups.length > 0)
      loaded = await recover('file missing while backups exist');
    else loaded = { map: new Map(), journalSeq: 0 };
    snapshotSeq = loaded.journalSeq;
    try {
      await replay(loaded.map, snapshotSeq);
      snapshotBytes = mainExists ? (await stat(path)).size : 0;
    } catch (error) {
      throw ioError(error, 'load');
    }
    state = loaded.map;
    // A snapshot was replaced by `recover`: write the recovered state now.
    if (!mainExists && (got !== undefined || backups.length > 0)) {
      try {
        await writeSnapshot(state, false);
      } catch (error) {
        throw ioError(error, 'save');
      }
    }
    return state;
  }

  async function openAppender(): Promise<JournalAppender> {
    if (appender !== undefined) return appender;
    await prepareWrite();
    const newest = journals.at(-1);
    const seq = newest?.seq ?? snapshotSeq;
    const j = await JournalAppender.open(
      journalPath(dir, base, seq),
      seq,
      newest === undefined ? 0 : newestValidBytes,
    );
    if (newest === undefined) journals.push({ seq, path: j.path });
    appender = j;
    return j;
  }

  const compactAt = (): number =>
    compactAfter ?? Math.max(MIN_COMPACT_BYTES, 4 * snapshotBytes);

  function scheduleSync(): void {
    if (syncTimer !== undefined) return;
    syncTimer = clock.setTimeout(() => {
      syncTimer = undefined;
      serial(async () => appender?.sync()).catch((error: unknown) => {
        if (LcError.isInstance(error, 'LC_ERR_SHUT_DOWN')) return;
        logger.warn(
          { err: ioError(error, 'sync') },
          'position journal fsync failed; retrying',
        );
        scheduleSync();
      });
    }, fsyncIntervalMs);
    syncTimer.unref();
  }

  /** Fold the journal into a new snapshot; a failure is logged with `failed`. */
  async function compact(failed: string): Promise<void> {
    try {
      await writeSnapshot(state as Map<string, Entry>, true);
      metrics.compactions.inc({ store: STORE });
    } catch (error) {
      logger.warn({ err: ioError(error, 'compact') }, failed);
    }
  }

  async function save(changes: PositionChanges): Promise<void> {
    const current = await ensureLoaded();
    const upserts = changes.upserts.map((p) => ({
      p,
      line: JSON.stringify(p),
    }));
    const deletes = changes.deletes ?? [];
    const apply = (m: Map<string, Entry>): void => {
      for (const e of upserts) m.set(positionKey(e.p), e);
      for (const key of deletes) m.delete(key);
    };
    if (compactAfter === 0) {
      const next = new Map(current);
      apply(next);
      try {
        await writeSnapshot(next, true);
      } catch (error) {
        throw ioError(error, 'save');
      }
      state = next;
      return;
    }
    try {
      const j = await openAppender();
      await j.append(
        encodeJournalRecord(
          upserts.map((e) => e.line),
          deletes,
        ),
        fsync === 'always',
      );
    } catch (error) {
      throw ioError(error, 'save');
    }
    apply(current);
    appendedSinceCompaction = true;
    if (fsync === 'interval') scheduleSync();
    if ((appender?.size ?? 0) >= compactAt())
      // The save itself is durable in the journal; a failed compaction is
      // retried after the next save.
      await compact('position journal compaction failed; will retry');
  }

  return {
    load: () =>
      serial(async () => [...(await ensureLoaded()).values()].map((e) => e.p)),
    save: (changes: PositionChanges) => serial(() => save(changes)),
    backup: () =>
      serial(async (): Promise<PositionBackup> => {
        const current = await ensureLoaded();
        try {
          // The snapshot must hold what the journal adds before it is copied.
          if (
            !mainExists ||
            appendedSinceCompaction ||
            (appender?.size ?? newestValidBytes) > 0
          )
            await writeSnapshot(current, false);
          const seq = ++backupSeq;
          await snapshot.linkBackup(seq);
          await snapshot.syncDir();
          metrics.backups.inc({ store: STORE });
          await snapshot.pruneBackups(backupCount);
          return { id: String(seq), createdAtMs: clock.now() };
        } catch (error) {
          throw ioError(error, 'backup');
        }
      }),
    listBackups: () =>
      serial(async () => {
        await ensureLoaded();
        const out: PositionBackup[] = [];
        for (const { seq, file } of await snapshot.backups()) {
          const st = await stat(file).catch(() => undefined);
          if (st !== undefined)
            out.push({ id: String(seq), createdAtMs: st.mtimeMs });
        }
        return out;
      }),
    restore: (id?: string) =>
      serial(async () => {
        await ensureLoaded();
        const backups = await snapshot.backups();
        const chosen =
          id === undefined
            ? backups[0]
            : backups.find((b) => String(b.seq) === id);
        if (chosen === undefined) {
          throw new LcError({
            code: 'LC_ERR_POSITIONS_CORRUPT',
            message: `no position backup ${id === undefined ? 'exists' : JSON.stringify(id)} for ${path}`,
            details: { path, id },
          });
        }
        const got = await snapshot.read(chosen.file);
        if (got === undefined || !('positions' in got)) {
          throw new LcError({
            code: 'LC_ERR_POSITIONS_CORRUPT',
            message: `position backup ${chosen.file} is unreadable (${got === undefined ? 'missing' : got.reason})`,
            details: { path: chosen.file },
          });
        }
        const restored = entriesOf(got);
        // A new journal generation: what the old journal holds must not be
        // replayed over the restored state.
        try {
          await writeSnapshot(restored, false);
        } catch (error) {
          throw ioError(error, 'save');
        }
        state = restored;
        metrics.recoveries.inc({ store: STORE, strategy: 'manual_restore' });
      }),
    async close() {
      if (closed) return;
      if (syncTimer !== undefined) clock.clearTimeout(syncTimer);
      await chain.catch(() => {});
      // Leave a current snapshot and an empty journal behind after a clean stop.
      if (state !== undefined && appendedSinceCompaction)
        await compact(
          'position journal not compacted at close; it is replayed at the next load',
        );
      try {
        if (fsync !== 'never') await appender?.sync();
      } catch (error) {
        logger.warn(
          { err: ioError(error, 'sync') },
          'position journal fsync at close failed',
        );
      }
      await appender?.close().catch(() => {});
      appender = undefined;
      closed = true;
    },
  };
}
