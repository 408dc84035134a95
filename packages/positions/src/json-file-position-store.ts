import { mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type {
  Instrumentation,
  Position,
  PositionBackup,
  PositionChanges,
  PositionStore,
} from '@lc/core';
import { LcError, positionKey, silentLogger, systemClock } from '@lc/core';
import type { TimerHandle } from '@lc/core';
import { storeMetrics } from './internal/metrics.js';
import {
  encodeJournalRecord,
  JournalAppender,
  journalPath,
  listJournals,
  readJournal,
  removeJournals,
} from './internal/position-journal.js';
import type { JournalFile } from './internal/position-journal.js';
import { SnapshotFile } from './internal/snapshot-file.js';

/** What to do when the position file is corrupt, truncated or missing while backups exist. */
export type CorruptionStrategy = 'restore_backup' | 'recreate' | 'fail';

/** When the journal is fsync'd (see {@link JsonFilePositionStoreOptions.fsync}). */
export type PositionFsyncPolicy = 'always' | 'interval' | 'never';

/** Options of {@link createJsonFilePositionStore}. */
export interface JsonFilePositionStoreOptions extends Instrumentation {
  /** The position file (the snapshot). Its directory is created if needed. */
  path: string;
  /**
   * Rotated backups kept next to the file (`<path>.bak.<n>`): every
   * snapshot write first hard-links the previous file as the newest
   * backup. 0 disables. @default 3
   */
  backupCount?: number;
  /**
   * On a corrupt/truncated snapshot (bad JSON, wrong checksum or count) or
   * a missing one with backups present: `restore_backup` restores the
   * newest valid backup (rejects `LC_ERR_POSITIONS_CORRUPT` if none is
   * valid), `recreate` starts empty, `fail` rejects
   * `LC_ERR_POSITIONS_CORRUPT`. The journal is replayed on top in the first
   * two cases. The bad file is kept as `<path>.corrupt-<ms>`. Always logged
   * and counted.
   * @default 'restore_backup'
   */
  onCorruption?: CorruptionStrategy;
  /**
   * When journal appends reach the disk itself. Every save is written to
   * the OS before it resolves, so a killed process loses nothing either
   * way; fsync is about a machine crash or power loss. `always`: each save
   * (slowest, nothing lost); `interval`: within `fsyncIntervalMs`;
   * `never`: when the OS decides. Snapshots are fsync'd unless `never`.
   * `true`/`false` mean `always`/`never`.
   * @default 'interval'
   */
  fsync?: PositionFsyncPolicy | boolean;
  /** With `fsync: 'interval'`, the longest a save stays un-fsync'd, ms. @default 1000 */
  fsyncIntervalMs?: number;
  /**
   * Fold the journal into a new snapshot once it holds this many bytes.
   * 0 rewrites the whole snapshot on every save instead of journalling.
   * @default max(1 MiB, 4 × the last snapshot's size)
   */
  compactAfterBytes?: number;
}

const DEFAULT_BACKUP_COUNT = 3;
const DEFAULT_FSYNC_INTERVAL_MS = 1000;
const MIN_COMPACT_BYTES = 1024 * 1024;
const STORE = 'json';

/** Current contents, with each position's serialised line reused by later writes. */
interface Entry {
  readonly p: Position;
  readonly line: string;
}

function invalid(option: string, message: string): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `positions: option ${option} ${message}`,
    details: { option },
  });
}

function resolveFsync(
  value: JsonFilePositionStoreOptions['fsync'],
): PositionFsyncPolicy {
  if (value === undefined) return 'interval';
  if (value === true) return 'always';
  if (value === false) return 'never';
  if (value === 'always' || value === 'interval' || value === 'never')
    return value;
  throw invalid(
    'fsync',
    `must be always, interval or never, got ${String(value)}`,
  );
}

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
  const { path } = options;
  if (typeof path !== 'string' || path === '')
    throw invalid(
      'path',
      `must be a non-empty string, got ${JSON.stringify(path)}`,
    );
  const backupCount = options.backupCount ?? DEFAULT_BACKUP_COUNT;
  if (!Number.isSafeInteger(backupCount) || backupCount < 0)
    throw invalid(
      'backupCount',
      `must be an integer >= 0, got ${String(backupCount)}`,
    );
  const strategy = options.onCorruption ?? 'restore_backup';
  if (!['restore_backup', 'recreate', 'fail'].includes(strategy))
    throw invalid(
      'onCorruption',
      `must be restore_backup, recreate or fail, got ${String(strategy)}`,
    );
  const fsync = resolveFsync(options.fsync);
  const fsyncIntervalMs = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
  if (!Number.isSafeInteger(fsyncIntervalMs) || fsyncIntervalMs < 1)
    throw invalid(
      'fsyncIntervalMs',
      `must be an integer >= 1, got ${String(fsyncIntervalMs)}`,
    );
  const compactAfter = options.compactAfterBytes;
  if (
    compactAfter !== undefined &&
    (!Number.isSafeInteger(compactAfter) || compactAfter < 0)
  )
    throw invalid(
      'compactAfterBytes',
      `must be an integer >= 0, got ${String(compactAfter)}`,
    );
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

  const ioError = (error: unknown, what: string): LcError => {
    if (LcError.isInstance(error)) return error;
    const code =
      (error as NodeJS.ErrnoException).code === 'ENOSPC'
        ? 'LC_ERR_DISK_FULL'
        : 'LC_ERR_POSITIONS_IO';
    metrics.errors.inc({ store: STORE, type: what });
    return new LcError({
      code,
      message: `position store ${path}: ${what} failed: ${(error as Error).message}`,
      cause: error,
      details: { path },
    });
  };

  const toMap = (got: {
    positions: Position[];
    lines: string[];
  }): Map<string, Entry> => {
    const map = new Map<string, Entry>();
    got.positions.forEach((p, i) =>
      map.set(positionKey(p), { p, line: got.lines[i] as string }),
    );
    return map;
  };

  const linesOf = (m: Map<string, Entry>): string[] => {
    const lines: string[] = [];
    for (const e of m.values()) lines.push(e.line);
    return lines;
  };

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
    metrics.corruption.inc({ store: STORE });
    const backups = await snapshot.backups();
    logger.error(
      { reason, strategy, backups: backups.length },
      'position file is corrupt',
    );
    if (strategy === 'fail') {
      throw new LcError({
        code: 'LC_ERR_POSITIONS_CORRUPT',
        message: `position file ${path} is corrupt (${reason}); onCorruption is 'fail'`,
        details: { path, reason },
      });
    }
    if (mainExists) {
      await rename(path, `${path}.corrupt-${clock.now()}`).catch(() => {});
      mainExists = false;
    }
    if (strategy === 'recreate') {
      metrics.recoveries.inc({ store: STORE, strategy });
      logger.warn(
        { reason },
        'position file recreated: sources restart from the journal or their beginning',
      );
      return { map: new Map(), journalSeq: 0 };
    }
    const tried: string[] = [];
    for (const { file } of backups) {
      const got = await snapshot.read(file);
      if (got !== undefined && 'positions' in got) {
        metrics.recoveries.inc({ store: STORE, strategy });
        logger.warn(
          { reason, backup: file, positions: got.positions.length },
          'position file restored from backup',
        );
        return { map: toMap(got), journalSeq: got.journalSeq };
      }
      tried.push(
        `${basename(file)}: ${got === undefined ? 'missing' : got.reason}`,
      );
    }
    throw new LcError({
      code: 'LC_ERR_POSITIONS_CORRUPT',
      message: `position file ${path} is corrupt (${reason}) and no valid backup exists (${tried.join('; ') || 'none'}); set onCorruption: 'recreate' to start empty`,
      details: { path, reason, tried },
    });
  }

  /** Apply the journals from `fromSeq` on, each up to its last valid line. */
  async function replay(
    map: Map<string, Entry>,
    fromSeq: number,
  ): Promise<void> {
    const all = await listJournals(dir, base);
    journals = all.filter((j) => j.seq >= fromSeq);
    newestValidBytes = 0;
    for (const [i, j] of journals.entries()) {
      const got = await readJournal(j.path);
      for (const r of got.records) {
        r.upserts.forEach((p, k) =>
          map.set(positionKey(p), { p, line: r.lines[k] as string }),
        );
        for (const key of r.deletes) map.delete(key);
      }
      if (got.badReason !== undefined) {
        const dropped = got.totalBytes - got.validBytes;
        metrics.journalRecoveries.inc({ store: STORE });
        metrics.journalDroppedBytes.inc({ store: STORE }, dropped);
        logger.warn(
          {
            file: j.path,
            offset: got.validBytes,
            droppedBytes: dropped,
            reason: got.badReason,
          },
          'position journal damaged: recovered up to its last valid record',
        );
      }
      if (i === journals.length - 1) newestValidBytes = got.validBytes;
    }
    // Journals the snapshot already holds (a crash after it was written):
    // removed before the first write, so a load alone changes nothing.
    stale = all.filter((j) => j.seq < fromSeq);
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
      loaded = { map: toMap(got), journalSeq: got.journalSeq };
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
    if ((appender?.size ?? 0) >= compactAt()) {
      try {
        await writeSnapshot(current, true);
        metrics.compactions.inc({ store: STORE });
      } catch (error) {
        // The save itself is durable in the journal; compaction is retried
        // after the next save.
        logger.warn(
          { err: ioError(error, 'compact') },
          'position journal compaction failed; will retry',
        );
      }
    }
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
        const restored = toMap(got);
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
      if (state !== undefined && appendedSinceCompaction) {
        try {
          await writeSnapshot(state, true);
          metrics.compactions.inc({ store: STORE });
        } catch (error) {
          logger.warn(
            { err: ioError(error, 'compact') },
            'position journal not compacted at close; it is replayed at the next load',
          );
        }
      }
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
