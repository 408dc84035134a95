export { LC_ERROR_CODES } from './lc-error-code.js';
export type { LcErrorCode } from './lc-error-code.js';
export { LcError, toLcError } from './lc-error.js';
export type { LcErrorOptions } from './lc-error.js';
export {
  EMPTY_LABELS,
  freezeLabels,
  labelsKey,
  setOwnKey,
  withLabels,
} from './labels.js';
export type { Labels } from './labels.js';
export {
  compareTimestamps,
  formatRfc3339Nano,
  formatTimestampNs,
  parseRfc3339Nano,
  parseTimestampNs,
  timestampFromMs,
  toSecondsNanos,
} from './timestamp.js';
export type { Timestamp } from './timestamp.js';
export { estimateRecordBytes, RECORD_OVERHEAD_BYTES } from './log-record.js';
export type {
  Cursor,
  JsonValue,
  LogRecord,
  SourceKind,
  SourceRef,
} from './log-record.js';
export { WriteResults } from './write-result.js';
export type {
  RecordFailure,
  WriteFailure,
  WritePartial,
  WriteResult,
  WriteRetryable,
  WriteSuccess,
} from './write-result.js';
export type { LifecycleOptions, Sink, WriteOptions } from './sink.js';
export { defineSink, shutDownResult } from './define-sink.js';
export type { SinkDefinition } from './define-sink.js';
export type { SinkFactory, SinkFactoryContext } from './sink-factory.js';
export { once, sleep, withTimeout } from './lifecycle.js';
export {
  humanDuration,
  humanSize,
  parseDurationMs,
  parseSizeBytes,
} from './units.js';
export { didYouMean } from './did-you-mean.js';
export { describeValue } from './describe-value.js';
export type { WithTimeoutOptions } from './lifecycle.js';
export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { silentLogger } from './logger.js';
export type { LogFn, Logger } from './logger.js';
export { getOrCreateMetric } from './metrics.js';
export type { MetricsRegistry } from './metrics.js';
export type { Instrumentation } from './instrumentation.js';
export { positionKey } from './position.js';
export type {
  ContainerPosition,
  ContainerPositionStatus,
  FilePosition,
  FilePositionStatus,
  Position,
} from './position.js';
export type {
  PositionBackup,
  PositionChanges,
  PositionStore,
} from './position-store.js';
export type {
  ContainerCursor,
  CursorCommitter,
  FileCursor,
  Intake,
} from './intake.js';
export type {
  BatchStore,
  PendingBatchInfo,
  PersistedBatch,
  RecoveredBatch,
} from './batch-store.js';
export type {
  DeadLetterEntry,
  DeadLetterFilter,
  DeadLetterReason,
  DeadLetterReplayOptions,
  DeadLetterStore,
} from './dead-letter-store.js';
