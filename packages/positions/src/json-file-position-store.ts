import {
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type {
  Instrumentation,
  Position,
  PositionBackup,
  PositionChanges,
  PositionStore,
} from '@lc/core';
import { LcError, positionKey, silentLogger, systemClock } from '@lc/core';
import { storeMetrics } from './internal/metrics.js';
import { parsePositions, serializeLines } from './internal/position-file.js';

/** What to do when the position file is corrupt, truncated or missing while backups exist. */
export type CorruptionStrategy = 'restore_backup' | 'recreate' | 'fail';

/** Options of {@link createJsonFilePositionStore}. */
export interface JsonFilePositionStoreOptions extends Instrumentation {
  /** The position file. Its directory is created if needed. */
  path: string;
  /**
   * Rotated backups kept next to the file (`<path>.bak.<n>`): every save
   * first hard-links the previous file as the newest backup. 0 disables.
   * @default 3
   */
  backupCount?: number;
  /**
   * On a corrupt/truncated file (bad JSON, wrong checksum or count) or a
   * missing file with backups present: `restore_backup` restores the newest
   * valid backup (rejects `LC_ERR_POSITIONS_CORRUPT` if none is valid),
   * `recreate` starts empty, `fail` rejects `LC_ERR_POSITIONS_CORRUPT`.
   * The bad file is kept as `<path>.corrupt-<ms>`. Always logged and counted.
   * @default 'restore_backup'
   */
  onCorruption?: CorruptionStrategy;
  /** fsync the file and its directory on every save. @default true */
  fsync?: boolean;
}

const DEFAULT_BACKUP_COUNT = 3;
const STORE = 'json';

/**
 * A {@link PositionStore} in one human-readable JSON file, written
 * atomically (temp file, fsync, rename, directory fsync) with a checksum and
 * rotated backups. One process per file. After `close`, every call rejects
 * `LC_ERR_SHUT_DOWN`.
 */
export function createJsonFilePositionStore(
  options: JsonFilePositionStoreOptions,
): PositionStore {
  const { path } = options;
  if (typeof path !== 'string' || path === '') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `positions: option path must be a non-empty string, got ${JSON.stringify(path)}`,
      details: { option: 'path' },
    });
  }
  const backupCount = options.backupCount ?? DEFAULT_BACKUP_COUNT;
  if (!Number.isSafeInteger(backupCount) || backupCount < 0) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `positions: option backupCount must be an integer >= 0, got ${String(backupCount)}`,
      details: { option: 'backupCount' },
    });
  }
  const strategy = options.onCorruption ?? 'restore_backup';
  if (!['restore_backup', 'recreate', 'fail'].includes(strategy)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `positions: option onCorruption must be restore_backup, recreate or fail, got ${String(strategy)}`,
      details: { option: 'onCorruption' },
    });
  }
  const fsync = options.fsync ?? true;
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({
    component: 'positions-json',
    path,
  });
  const metrics = storeMetrics(options.registry);
  const dir = dirname(path);
  const base = basename(path);
  const backupPrefix = `${base}.bak.`;

  /** Current contents with each position's serialised line, reused by later saves. */
  interface Entry {
    readonly p: Position;
    readonly line: string;
  }
  let state: Map<string, Entry> | undefined;
  let mainExists = false;
  let backupSeq = 0;
  let tmpSeq = 0;
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

  async function backupFiles(): Promise<Array<{ seq: number; file: string }>> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: Array<{ seq: number; file: string }> = [];
    for (const name of names) {
      if (!name.startsWith(backupPrefix)) continue;
      const seq = Number(name.slice(backupPrefix.length));
      if (Number.isSafeInteger(seq) && seq > 0)
        out.push({ seq, file: join(dir, name) });
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  async function syncDir(): Promise<void> {
    if (!fsync) return;
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function pruneBackups(): Promise<void> {
    const files = await backupFiles();
    for (const { file } of files.slice(backupCount))
      await unlink(file).catch(() => {});
  }

  /** Atomically replace the file with `next`; hard-link the old one as a backup first. */
  async function writeState(
    next: Map<string, Entry>,
    keepBackup: boolean,
  ): Promise<void> {
    const lines: string[] = [];
    for (const e of next.values()) lines.push(e.line);
    const text = serializeLines(lines, clock.now());
    const tmp = join(dir, `${base}.tmp-${process.pid}-${++tmpSeq}`);
    try {
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(text);
        if (fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      if (keepBackup && backupCount > 0 && mainExists) {
        await link(path, join(dir, `${backupPrefix}${++backupSeq}`));
        metrics.backups.inc({ store: STORE });
        await pruneBackups();
      }
      await rename(tmp, path);
      await syncDir();
      mainExists = true;
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw ioError(error, 'save');
    }
  }

  async function readValid(
    file: string,
  ): Promise<
    { positions: Position[]; lines: string[] } | { reason: string } | undefined
  > {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(error, 'load');
    }
    const parsed = parsePositions(text);
    return parsed.ok
      ? { positions: parsed.positions, lines: parsed.lines }
      : { reason: parsed.reason };
  }

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

  async function recover(reason: string): Promise<Map<string, Entry>> {
    metrics.corruption.inc({ store: STORE });
    const backups = await backupFiles();
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
      const empty = new Map<string, Entry>();
      await writeState(empty, false);
      metrics.recoveries.inc({ store: STORE, strategy });
      logger.warn(
        { reason },
        'position file recreated empty: sources restart from their beginning',
      );
      return empty;
    }
    const tried: string[] = [];
    for (const { file } of backups) {
      const got = await readValid(file);
      if (got !== undefined && 'positions' in got) {
        const restored = toMap(got);
        await writeState(restored, false);
        metrics.recoveries.inc({ store: STORE, strategy });
        logger.warn(
          { reason, backup: file, positions: restored.size },
          'position file restored from backup',
        );
        return restored;
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

  async function ensureLoaded(): Promise<Map<string, Entry>> {
    if (state !== undefined) return state;
    try {
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        if (name.startsWith(`${base}.tmp-`))
          await unlink(join(dir, name)).catch(() => {});
      }
    } catch (error) {
      throw ioError(error, 'load');
    }
    const backups = await backupFiles();
    backupSeq = backups[0]?.seq ?? 0;
    const got = await readValid(path);
    mainExists = got !== undefined;
    if (got !== undefined && 'positions' in got) state = toMap(got);
    else if (got !== undefined) state = await recover(got.reason);
    else if (backups.length > 0)
      state = await recover('file missing while backups exist');
    else state = new Map();
    return state;
  }

  return {
    load: () =>
      serial(async () => [...(await ensureLoaded()).values()].map((e) => e.p)),
    save: (changes: PositionChanges) =>
      serial(async () => {
        const current = await ensureLoaded();
        const next = new Map(current);
        for (const p of changes.upserts)
          next.set(positionKey(p), { p, line: JSON.stringify(p) });
        for (const key of changes.deletes ?? []) next.delete(key);
        await writeState(next, true);
        state = next;
      }),
    backup: () =>
      serial(async (): Promise<PositionBackup> => {
        const current = await ensureLoaded();
        if (!mainExists) await writeState(current, false);
        const seq = ++backupSeq;
        const file = join(dir, `${backupPrefix}${seq}`);
        try {
          await link(path, file);
          await syncDir();
        } catch (error) {
          throw ioError(error, 'backup');
        }
        metrics.backups.inc({ store: STORE });
        await pruneBackups();
        return { id: String(seq), createdAtMs: clock.now() };
      }),
    listBackups: () =>
      serial(async () => {
        await ensureLoaded();
        const out: PositionBackup[] = [];
        for (const { seq, file } of await backupFiles()) {
          const st = await stat(file).catch(() => undefined);
          if (st !== undefined)
            out.push({ id: String(seq), createdAtMs: st.mtimeMs });
        }
        return out;
      }),
    restore: (id?: string) =>
      serial(async () => {
        await ensureLoaded();
        const backups = await backupFiles();
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
        const got = await readValid(chosen.file);
        if (got === undefined || !('positions' in got)) {
          throw new LcError({
            code: 'LC_ERR_POSITIONS_CORRUPT',
            message: `position backup ${chosen.file} is unreadable (${got === undefined ? 'missing' : got.reason})`,
            details: { path: chosen.file },
          });
        }
        const restored = toMap(got);
        await writeState(restored, false);
        state = restored;
        metrics.recoveries.inc({ store: STORE, strategy: 'manual_restore' });
      }),
    async close() {
      if (closed) return;
      await chain.catch(() => {});
      closed = true;
    },
  };
}
