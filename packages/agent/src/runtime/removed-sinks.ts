import type { Logger, PendingBatchInfo } from '@lc/core';

/** What the WAL holds for one sink a reload removed. */
export interface RemovedSinkBacklog {
  readonly sink: string;
  readonly batches: number;
  readonly records: number;
}

/**
 * The WAL backlog of each sink in `before` that is not in `after`: the new
 * pipeline cannot deliver it, and dead-letters it (`LC_ERR_CONFIG`) when it
 * starts, as a restart would.
 */
export function removedSinkBacklog(
  before: readonly string[],
  after: readonly string[],
  pending: readonly PendingBatchInfo[],
): RemovedSinkBacklog[] {
  const kept = new Set(after);
  const out: RemovedSinkBacklog[] = [];
  for (const sink of before) {
    if (kept.has(sink)) continue;
    let batches = 0;
    let records = 0;
    for (const b of pending) {
      if (!b.pendingSinks.includes(sink)) continue;
      batches++;
      records += b.records;
    }
    if (batches > 0) out.push({ sink, batches, records });
  }
  return out;
}

/**
 * Say, at warn, for each sink a reload removed while the WAL held batches
 * for it, where its records go: the dead-letter queue, kept for replay.
 */
export function reportRemovedSinks(
  logger: Logger,
  backlog: readonly RemovedSinkBacklog[],
  where: { readonly wal: string; readonly dlq: string },
): void {
  for (const b of backlog) {
    logger.warn(
      { sink: b.sink, batches: b.batches, records: b.records, ...where },
      `reload: sink ${b.sink} removed with ${b.records} record${b.records === 1 ? '' : 's'} held for it in the WAL (${where.wal}): dead-lettered (LC_ERR_CONFIG) into the DLQ (${where.dlq}), kept for replay (GET /dlq?sink=${b.sink}; POST /dlq/replay once a sink of that name is configured again)`,
    );
  }
}
