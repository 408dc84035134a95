import { join, resolve } from 'node:path';
import type { DeadLetterStore, Instrumentation } from '@lc/core';
import type { BatchPersistence } from '@lc/persistence';
import { createBatchPersistence, createDeadLetterStore } from '@lc/persistence';
import type { AgentConfig } from '../config/schema.js';

/** The dispatcher's stores; each undefined when disabled. */
export interface DispatcherStores {
  /** The dead-letter log (`dlq`). */
  readonly deadLetters: DeadLetterStore | undefined;
  /** The batch WAL (`persistence`); dead-letters into `deadLetters`. */
  readonly batchStore: BatchPersistence | undefined;
}

/** The batch WAL's directory (`persistence.directory`, else `<data_dir>/wal`). */
export function walDirectory(cfg: AgentConfig): string {
  return cfg.persistence.directory ?? resolve(cfg.app.data_dir, 'wal');
}

/**
 * Where the WAL dead-letters: the DLQ (`dlq.directory`, else
 * `<data_dir>/dlq`), or with `dlq.enabled: false` its own under the WAL
 * directory.
 */
export function dlqDirectory(cfg: AgentConfig): string {
  return cfg.dlq.enabled
    ? (cfg.dlq.directory ?? resolve(cfg.app.data_dir, 'dlq'))
    : join(walDirectory(cfg), 'dlq');
}

/**
 * Open the dead-letter store and the batch WAL `cfg` asks for, under
 * `app.data_dir` unless given a directory. They outlive pipeline
 * generations: a reload keeps them. The agent closes them on shutdown,
 * the WAL first (it writes into the DLQ).
 */
export async function openStores(
  cfg: AgentConfig,
  inst: Instrumentation,
): Promise<DispatcherStores> {
  const deadLetters = cfg.dlq.enabled
    ? await createDeadLetterStore({
        ...inst,
        directory: dlqDirectory(cfg),
        maxSegmentBytes: cfg.buffer.max_segment_bytes,
      })
    : undefined;
  const p = cfg.persistence;
  const batchStore = p.enabled
    ? await createBatchPersistence({
        ...inst,
        directory: walDirectory(cfg),
        fsync: p.fsync,
        maxPendingBytes: p.max_pending_bytes,
        maxSegmentBytes: cfg.buffer.max_segment_bytes,
        ...(p.batch_ttl === undefined ? {} : { batchTtlMs: p.batch_ttl }),
        ...(deadLetters === undefined ? {} : { deadLetters }),
      })
    : undefined;
  return { deadLetters, batchStore };
}
