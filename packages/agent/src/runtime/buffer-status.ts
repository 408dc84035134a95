import type { PendingBatchInfo } from '@lc/core';
import type { DispatcherStats } from '@lc/dispatcher';
import type { FileStatus } from '@lc/monitors';

/** A file whose unsaved bytes are gone if it is closed now (see {@link BufferStatus}). */
export interface FileAtRisk {
  readonly id: string;
  readonly path: string;
  /** `rotated` (renamed away) or `deleted` (held open). */
  readonly state: 'rotated' | 'deleted';
  /** Bytes past the committed offset: not delivered nor held on disk by lc yet. */
  readonly unsafeBytes: number;
}

/** What lc holds on disk for a sink that is down or slow (`/status.buffer`). */
export interface BufferStatus {
  /** The intake's disk buffer (`dispatcher.spill`). */
  readonly spill: {
    readonly enabled: boolean;
    readonly records: number;
    readonly bytes: number;
    /** Age of its oldest record, s (0 when empty). */
    readonly oldestAgeSeconds: number;
  };
  /** Batches held in the WAL (`persistence`) until every sink took them. */
  readonly persistence: {
    readonly enabled: boolean;
    readonly batches: number;
    readonly records: number;
    readonly bytes: number;
    /** Age of its oldest batch, s (0 when none). */
    readonly oldestAgeSeconds: number;
  };
  /** Rotated-away or deleted files still holding bytes lc has not made safe. */
  readonly filesAtRisk: readonly FileAtRisk[];
}

const ageSeconds = (sinceMs: number | undefined, nowMs: number): number =>
  sinceMs === undefined ? 0 : Math.max(0, (nowMs - sinceMs) / 1000);

/** Summarise the disk buffers and the files at risk for `/status`. */
export function bufferStatus(
  dispatcher: DispatcherStats | undefined,
  spillEnabled: boolean,
  batches: readonly PendingBatchInfo[] | undefined,
  files: readonly FileStatus[],
  nowMs: number = Date.now(),
): BufferStatus {
  let records = 0;
  let bytes = 0;
  let oldest: number | undefined;
  for (const b of batches ?? []) {
    records += b.records;
    bytes += b.bytes;
    if (oldest === undefined || b.createdAtMs < oldest) oldest = b.createdAtMs;
  }
  const filesAtRisk: FileAtRisk[] = [];
  for (const f of files) {
    if (f.state !== 'rotated' && f.state !== 'deleted') continue;
    const unsafeBytes = f.size - f.committedOffset;
    if (!f.open || unsafeBytes <= 0) continue;
    filesAtRisk.push({ id: f.id, path: f.path, state: f.state, unsafeBytes });
  }
  return {
    spill: {
      enabled: spillEnabled,
      records: dispatcher?.spilledRecords ?? 0,
      bytes: dispatcher?.spilledBytes ?? 0,
      oldestAgeSeconds: ageSeconds(dispatcher?.spilledOldestAtMs, nowMs),
    },
    persistence: {
      enabled: batches !== undefined,
      batches: batches?.length ?? 0,
      records,
      bytes,
      oldestAgeSeconds: ageSeconds(oldest, nowMs),
    },
    filesAtRisk,
  };
}
