import type { Clock, ContainerCursor, Logger } from '@lc/core';
import { apiCursorFromFiles } from '../../docker-files/internal/api-cursor-from-files.js';
import type { ContainerPositions } from '../container-monitor-options.js';
import type { TrackedContainer } from './tracked-container.js';
import { containerState } from './tracked-container.js';

/** What {@link ContainerPositionBook} needs from the monitor. */
export interface ContainerPositionBookContext {
  readonly positions: ContainerPositions;
  /** Docker's data root (`dataRoot` option): where files mode read before. */
  readonly dataRoot: string | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The container monitor's side of the position store: where a container
 * resumes (its own saved cursor, or the json-file log files mode read
 * before), and its position entry as its state changes.
 */
export class ContainerPositionBook {
  private readonly ctx: ContainerPositionBookContext;

  constructor(ctx: ContainerPositionBookContext) {
    this.ctx = ctx;
  }

  /** The saved cursor of container `id`, if it has read a line before. */
  saved(id: string): ContainerCursor | undefined {
    const p = this.ctx.positions.get('container', id);
    if (p === undefined || !('lastTimestampNs' in p)) return undefined;
    if (p.lastTimestampNs === '') return undefined;
    return {
      timestampNs: p.lastTimestampNs,
      lineHash: p.lastLineHash,
      linesAtTimestamp: p.linesAtLastTimestamp,
    };
  }

  /**
   * Where a container read in files mode before resumes (`dataRoot`): after
   * the last line committed from its json-file log, unless its own
   * position is later.
   */
  async resumeFromFiles(id: string): Promise<ContainerCursor | undefined> {
    const { positions, dataRoot } = this.ctx;
    if (dataRoot === undefined || positions.list === undefined)
      return undefined;
    const fromFiles = await apiCursorFromFiles(
      positions.list('file'),
      dataRoot,
      id,
    ).catch(() => undefined);
    const own = this.saved(id);
    if (fromFiles === undefined) return undefined;
    if (
      own !== undefined &&
      BigInt(own.timestampNs) >= BigInt(fromFiles.timestampNs)
    )
      return undefined;
    this.ctx.logger.info(
      { containerId: id, cursor: fromFiles },
      'container resumes after the last line committed from its json-file log (files mode before)',
    );
    return fromFiles;
  }

  /**
   * Save the container's facts and state, keeping its cursor and counts.
   * Excluded containers have no position.
   */
  upsert(t: TrackedContainer): void {
    if (t.excluded !== undefined) return;
    const { positions, clock } = this.ctx;
    const p = positions.get('container', t.id);
    const saved = p !== undefined && 'lastTimestampNs' in p ? p : undefined;
    positions.upsertContainer({
      kind: 'container',
      id: t.id,
      name: t.name,
      image: t.image,
      lastTimestampNs: saved?.lastTimestampNs ?? '',
      lastLineHash: saved?.lastLineHash ?? '',
      linesAtLastTimestamp: saved?.linesAtLastTimestamp ?? 0,
      logCount: saved?.logCount ?? 0,
      bytesRead: saved?.bytesRead ?? 0,
      status: containerState(t),
      updatedAtMs: clock.now(),
    });
  }

  /** Forget container `id`'s position (it was destroyed and settled). */
  remove(id: string): void {
    this.ctx.positions.remove('container', id);
  }
}
