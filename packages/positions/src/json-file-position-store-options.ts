import type { Instrumentation } from '@lc/core';
import { LcError } from '@lc/core';

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

/** The options of {@link createJsonFilePositionStore}, validated and defaulted. */
export interface ResolvedStoreOptions {
  readonly path: string;
  readonly backupCount: number;
  readonly strategy: CorruptionStrategy;
  readonly fsync: PositionFsyncPolicy;
  readonly fsyncIntervalMs: number;
  /** `undefined`: the size-derived default. */
  readonly compactAfter: number | undefined;
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

/** Validate once, at construction; throws `LC_ERR_INVALID_OPTION` naming the option. */
export function resolveStoreOptions(
  options: JsonFilePositionStoreOptions,
): ResolvedStoreOptions {
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
  return { path, backupCount, strategy, fsync, fsyncIntervalMs, compactAfter };
}
