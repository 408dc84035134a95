// Public API of @lc/positions. List exports by name (STYLE.md rule 3).
export { createPositionManager } from './position-manager.js';
export type {
  PositionManager,
  PositionManagerOptions,
  PositionManagerStats,
  ResetOptions,
  ResetReason,
} from './position-manager-options.js';
export {
  computeFingerprint,
  computeOffsetMarker,
  DEFAULT_FINGERPRINT_BYTES,
  DEFAULT_MARKER_BYTES,
  fileSourceId,
  fingerprintOf,
  observeFile,
} from './file-identity.js';
export type {
  FileFingerprint,
  FileRef,
  ObservedFile,
} from './file-identity.js';
export { decideFileResume } from './decide-file-resume.js';
export type { ResumeDecision, ResumeReason } from './decide-file-resume.js';
export { findRotatedFile } from './find-rotated-file.js';
export { createJsonFilePositionStore } from './json-file-position-store.js';
export type {
  CorruptionStrategy,
  JsonFilePositionStoreOptions,
  PositionFsyncPolicy,
} from './json-file-position-store-options.js';
export { createRedisPositionStore } from './redis-position-store.js';
export type { RedisPositionStoreOptions } from './redis-position-store.js';
export { createMemoryPositionStore } from './memory-position-store.js';
export type { MemoryPositionStore } from './memory-position-store.js';
