import type {
  Instrumentation,
  DeadLetterStore,
  RecoveredBatch,
} from '@lc/core';
import { numberOption } from './internal/options.js';

/** Component name used in option errors. */
export const COMPONENT = 'createBatchPersistence';
/** @default for `maxPendingBatches`. */
export const DEFAULT_MAX_PENDING_BATCHES = 10_000;
/** @default for `maxPendingBytes` (256 MiB). */
export const DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024;
/** @default for `batchTtlMs` (24 h). */
export const DEFAULT_BATCH_TTL_MS = 24 * 60 * 60 * 1000;
/** @default for `recoveryBackoffBaseMs`. */
export const DEFAULT_RECOVERY_BACKOFF_BASE_MS = 1000;
/** @default for `recoveryBackoffMaxMs` (5 min). */
export const DEFAULT_RECOVERY_BACKOFF_MAX_MS = 5 * 60 * 1000;
/** @default for `maxRecoveryRetries`. */
export const DEFAULT_MAX_RECOVERY_RETRIES = 10;
/** @default for `checkIntervalMs`. */
export const DEFAULT_CHECK_INTERVAL_MS = 1000;
/** @default for `maxSegmentBytes` of the WAL (32 MiB). */
export const DEFAULT_WAL_SEGMENT_BYTES = 32 * 1024 * 1024;

/**
 * Receives a batch the recovery loop offers again: deliver it to
 * `pendingSinks` and report back with `markDelivered`/`markFailed`/
 * `deadLetter` as for any batch.
 */
export type RedeliveryHandler = (batch: RecoveredBatch) => void | Promise<void>;

/** Options for {@link createBatchPersistence}. */
export interface BatchPersistenceOptions extends Instrumentation {
  /** Directory of the WAL (`<directory>/wal`) and default DLQ (`<directory>/dlq`). */
  directory: string;
  /**
   * When `persist` and outcome writes are durable. `always`: fsync'd before
   * they resolve (survives power loss). `interval`: fsync'd within
   * `fsyncIntervalMs` (survives a process crash; a machine crash can lose
   * that window). `never`: the OS decides. @default 'interval'
   */
  fsync?: 'always' | 'interval' | 'never';
  /** fsync period for `interval`, ms. @default 1000 */
  fsyncIntervalMs?: number;
  /** WAL segment size, bytes. @default 32 MiB */
  maxSegmentBytes?: number;
  /** Unsettled batches held before `persist` waits. @default 10000 */
  maxPendingBatches?: number;
  /** WAL bytes of unsettled batches before `persist` waits. @default 256 MiB */
  maxPendingBytes?: number;
  /** Age after which an unsettled batch is dead-lettered (`LC_ERR_BATCH_EXPIRED`), ms. @default 24 h */
  batchTtlMs?: number;
  /** First delay of the recovery loop (full jitter), ms. @default 1000 */
  recoveryBackoffBaseMs?: number;
  /** Cap of the recovery loop's delay, ms. @default 300000 */
  recoveryBackoffMaxMs?: number;
  /** Offers of a handed-back batch per sink before it is dead-lettered. @default 10 */
  maxRecoveryRetries?: number;
  /** Period of the TTL and recovery checks, ms. @default 1000 */
  checkIntervalMs?: number;
  /** Where dead letters go. @default a store under `<directory>/dlq` */
  deadLetters?: DeadLetterStore;
  /** Recovery loop target; can also be set later with `setRedeliveryHandler`. */
  redeliver?: RedeliveryHandler;
  /** AES-256-GCM key (32 bytes) for the WAL (and the default DLQ). */
  encryptionKey?: Buffer;
  /** Random source in [0, 1) for jitter (tests). @default Math.random */
  random?: () => number;
}

/** Numeric options of {@link BatchPersistenceOptions}, validated, defaults applied. */
export interface ResolvedBatchPersistenceOptions {
  readonly maxPendingBatches: number;
  readonly maxPendingBytes: number;
  readonly batchTtlMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly maxRecoveryRetries: number;
  readonly checkIntervalMs: number;
}

/**
 * Validate the numeric options (throws `LC_ERR_INVALID_OPTION` naming the
 * option) and apply defaults.
 */
export function resolveBatchPersistenceOptions(
  options: BatchPersistenceOptions,
): ResolvedBatchPersistenceOptions {
  const maxPendingBatches = numberOption(
    COMPONENT,
    'maxPendingBatches',
    options.maxPendingBatches,
    DEFAULT_MAX_PENDING_BATCHES,
    { min: 1 },
  );
  const maxPendingBytes = numberOption(
    COMPONENT,
    'maxPendingBytes',
    options.maxPendingBytes,
    DEFAULT_MAX_PENDING_BYTES,
    { min: 1 },
  );
  const batchTtlMs = numberOption(
    COMPONENT,
    'batchTtlMs',
    options.batchTtlMs,
    DEFAULT_BATCH_TTL_MS,
    { min: 1 },
  );
  const backoffBaseMs = numberOption(
    COMPONENT,
    'recoveryBackoffBaseMs',
    options.recoveryBackoffBaseMs,
    DEFAULT_RECOVERY_BACKOFF_BASE_MS,
    { min: 0 },
  );
  const backoffMaxMs = numberOption(
    COMPONENT,
    'recoveryBackoffMaxMs',
    options.recoveryBackoffMaxMs,
    DEFAULT_RECOVERY_BACKOFF_MAX_MS,
    { min: 0 },
  );
  const maxRecoveryRetries = numberOption(
    COMPONENT,
    'maxRecoveryRetries',
    options.maxRecoveryRetries,
    DEFAULT_MAX_RECOVERY_RETRIES,
    { min: 0 },
  );
  const checkIntervalMs = numberOption(
    COMPONENT,
    'checkIntervalMs',
    options.checkIntervalMs,
    DEFAULT_CHECK_INTERVAL_MS,
    { min: 1 },
  );
  return {
    maxPendingBatches,
    maxPendingBytes,
    batchTtlMs,
    backoffBaseMs,
    backoffMaxMs,
    maxRecoveryRetries,
    checkIntervalMs,
  };
}
