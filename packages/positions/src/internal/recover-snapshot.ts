import { rename } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Clock, Logger, Position } from '@lc/core';
import { LcError } from '@lc/core';
import type { CorruptionStrategy } from '../json-file-position-store-options.js';
import type { StoreMetrics } from './metrics.js';
import type { SnapshotFile } from './snapshot-file.js';

/** What {@link recoverSnapshot} needs. */
export interface RecoverSnapshotInput {
  readonly snapshot: SnapshotFile;
  readonly path: string;
  /** Why the snapshot is not usable (corrupt, missing while backups exist). */
  readonly reason: string;
  readonly strategy: CorruptionStrategy;
  /** The bad file exists: keep it as `<path>.corrupt-<ms>`. */
  readonly keepCorrupt: boolean;
  readonly clock: Clock;
  readonly metrics: StoreMetrics;
  readonly logger: Logger;
  /** Metric label of the store. */
  readonly store: string;
}

/**
 * The state to start from when the snapshot cannot be used, per the
 * corruption strategy: the newest valid backup (`restore_backup`), nothing
 * (`recreate`), or a rejection (`fail`, or no valid backup). Counted and
 * logged; the journal is replayed over what it returns.
 */
export async function recoverSnapshot(
  input: RecoverSnapshotInput,
): Promise<{ positions: Position[]; lines: string[]; journalSeq: number }> {
  const { snapshot, path, reason, strategy, metrics, logger, store } = input;
  metrics.corruption.inc({ store });
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
  if (input.keepCorrupt)
    await rename(path, `${path}.corrupt-${input.clock.now()}`).catch(() => {});
  if (strategy === 'recreate') {
    metrics.recoveries.inc({ store, strategy });
    logger.warn(
      { reason },
      'position file recreated: sources restart from the journal or their beginning',
    );
    return { positions: [], lines: [], journalSeq: 0 };
  }
  const tried: string[] = [];
  for (const { file } of backups) {
    const got = await snapshot.read(file);
    if (got !== undefined && 'positions' in got) {
      metrics.recoveries.inc({ store, strategy });
      logger.warn(
        { reason, backup: file, positions: got.positions.length },
        'position file restored from backup',
      );
      return got;
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
