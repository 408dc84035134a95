import type { Logger } from '@lc/core';
import { applyWalEvent, newBatchState } from './batch-state.js';
import type { BatchState } from './batch-state.js';
import type { DiskLogPort } from './disk-log-port.js';
import type { createPersistenceMetrics } from './persistence-metrics.js';
import { decodeEntryHeader } from './wal-entry.js';

/**
 * Rebuild the unsettled batches from the WAL in one streamed pass that
 * decodes entry headers only (records stay on disk). Acknowledges what a
 * crash left behind: batches settled whose ack did not make it, events of
 * batches already acknowledged, and undecodable entries (counted, logged).
 */
export async function loadWalState(
  log: DiskLogPort,
  logger: Logger,
  metrics: ReturnType<typeof createPersistenceMetrics>,
): Promise<Map<string, BatchState>> {
  const batches = new Map<string, BatchState>();
  let recovered = 0;
  for await (const entry of log.read()) {
    let header: ReturnType<typeof decodeEntryHeader>;
    try {
      header = decodeEntryHeader(entry.payload);
    } catch (error) {
      metrics.corrupt.inc();
      logger.error(
        { err: error, seq: entry.seq },
        'undecodable WAL entry acknowledged and skipped',
      );
      log.ack(entry.seq);
      continue;
    }
    if (header.type === 'batch') {
      if (batches.has(header.id)) {
        log.ack(entry.seq);
        continue;
      }
      batches.set(
        header.id,
        newBatchState({
          id: header.id,
          seq: entry.seq,
          sinks: header.sinks,
          records: header.records,
          bytes: entry.payload.length,
          createdAtMs: header.createdAtMs,
        }),
      );
      continue;
    }
    const st = batches.get(header.batchId);
    if (st === undefined) {
      log.ack(entry.seq); // outcome of a batch already acknowledged
      continue;
    }
    applyWalEvent(st, header);
    st.eventSeqs.push(entry.seq);
  }
  for (const st of [...batches.values()]) {
    if (st.pending.size === 0) {
      // Settled just before the crash; the ack did not make it.
      batches.delete(st.id);
      log.ack([st.seq, ...st.eventSeqs]);
    } else {
      recovered++;
    }
  }
  metrics.recovered.inc(recovered);
  if (recovered > 0) {
    logger.info({ batches: recovered }, 'unsettled batches found in the WAL');
  }

  return batches;
}
