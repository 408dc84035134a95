// Public API of @lc/persistence. List exports by name (STYLE.md rule 3).
export { createBatchPersistence } from './batch-persistence.js';
export type {
  BatchPersistence,
  BatchPersistenceStats,
} from './batch-persistence.js';
export {
  DEFAULT_BATCH_TTL_MS,
  DEFAULT_CHECK_INTERVAL_MS,
  DEFAULT_MAX_PENDING_BATCHES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_RECOVERY_RETRIES,
  DEFAULT_RECOVERY_BACKOFF_BASE_MS,
  DEFAULT_RECOVERY_BACKOFF_MAX_MS,
  DEFAULT_WAL_SEGMENT_BYTES,
} from './batch-persistence-options.js';
export type {
  BatchPersistenceOptions,
  RedeliveryHandler,
} from './batch-persistence-options.js';
export {
  createDeadLetterStore,
  DEFAULT_DEAD_LETTER_FSYNC,
  DEFAULT_DEAD_LETTER_LIST_LIMIT,
  DEFAULT_DEAD_LETTER_REPLAY_BATCH_SIZE,
  DEFAULT_DEAD_LETTER_SEGMENT_BYTES,
} from './dead-letter-store.js';
export type {
  DeadLetterStoreOptions,
  DiskDeadLetterStore,
} from './dead-letter-store.js';
export { decodeRecords, encodeRecords } from './record-codec.js';
