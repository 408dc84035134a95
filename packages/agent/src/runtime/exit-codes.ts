/**
 * Process exit codes of `lc-agent`, for every command (documented in
 * docs/cli.md, the one place users read them).
 */
export const EXIT_CODES = {
  /** Clean shutdown, or the command did what it was asked. */
  ok: 0,
  /** A runtime failure: failed to start, a fatal error, an I/O error, `dlq replay` left failures. */
  failure: 1,
  /** Invalid usage (unknown command or flag, missing or bad argument) or configuration, or the data directory is in use by another agent. */
  config: 2,
  /** Shutdown did not finish in time; exited anyway. */
  shutdownTimeout: 3,
  /** A second SIGINT/SIGTERM forced the exit. */
  forced: 130,
} as const;
