/**
 * Every stable error code an lc package can produce. Codes never change
 * meaning once released; `docs/errors.md` lists each with its meaning and fix,
 * and a test keeps this list and the document in sync.
 */
export const LC_ERROR_CODES = [
  'LC_ERR_ABORTED',
  'LC_ERR_BATCH_EXPIRED',
  'LC_ERR_BUFFER_CORRUPT',
  'LC_ERR_BUFFER_FULL',
  'LC_ERR_BUFFER_IO',
  'LC_ERR_CIRCUIT_OPEN',
  'LC_ERR_CONFIG',
  'LC_ERR_DECRYPT',
  'LC_ERR_DISK_FULL',
  'LC_ERR_DLQ',
  'LC_ERR_DOCKER',
  'LC_ERR_FILE_PERMISSION',
  'LC_ERR_FILE_READ',
  'LC_ERR_INTERNAL',
  'LC_ERR_INVALID_INPUT',
  'LC_ERR_INVALID_OPTION',
  'LC_ERR_POSITIONS_CORRUPT',
  'LC_ERR_POSITIONS_IO',
  'LC_ERR_QUEUE_FULL',
  'LC_ERR_RECORD_TOO_LARGE',
  'LC_ERR_SERVICE_UNAVAILABLE',
  'LC_ERR_SHUT_DOWN',
  'LC_ERR_SINK_AUTH',
  'LC_ERR_SINK_RATE_LIMITED',
  'LC_ERR_SINK_REJECTED',
  'LC_ERR_SINK_TLS',
  'LC_ERR_SINK_UNAVAILABLE',
  'LC_ERR_SINK_WRITE',
  'LC_ERR_TIMEOUT',
] as const;

/** A stable, documented error code. See `docs/errors.md`. */
export type LcErrorCode = (typeof LC_ERROR_CODES)[number];
