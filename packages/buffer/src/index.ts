// Public API of @lc/buffer. List exports by name (STYLE.md rule 3).
export { createDiskLog } from './disk-log.js';
export type {
  DiskLog,
  DiskLogAppendInput,
  DiskLogEntry,
  DiskLogOptions,
  DiskLogReadOptions,
  DiskLogRetention,
  DiskLogStats,
  RetentionLimitPolicy,
} from './disk-log.js';
export { crc32c } from './internal/crc32c.js';
