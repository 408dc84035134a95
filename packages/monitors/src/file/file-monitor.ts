import { once } from '@lc/core';
import type { FileMonitorOptions } from './file-monitor-options.js';
import type { FileStatus } from './file-status.js';
import { FileMonitorEngine } from './internal/file-monitor-engine.js';

/**
 * Tails files matched by globs and hands each line to an `Intake` as a
 * `LogRecord` whose cursor (`{ offset, line }`, the byte offset just past
 * the line) lets it resume exactly after a crash. Survives rename+create,
 * copytruncate, truncation, deletion, inode reuse and rotation while down.
 */
export interface FileMonitor {
  /**
   * Discover files, resume them from their committed positions, finish
   * files rotated while the monitor was down, and start watching.
   * Idempotent. Rejects only on a bug; file errors go to `onError` and
   * `status()`.
   */
  start(): Promise<void>;
  /**
   * Read everything available now (within budgets, waiting for the intake
   * when it pushes back) and emit pending multiline records. Partial last
   * lines of live files stay held. No-op after shutdown.
   */
  flush(): Promise<void>;
  /**
   * Stop reading and watching, close every file. Held partial lines and
   * pending multiline records are not emitted: they were not committed, so
   * they are read again on the next start. Idempotent.
   */
  shutdown(): Promise<void>;
  /** Every tracked file identity, recently finished ones and path errors. */
  status(): FileStatus[];
  /**
   * Whether a file renamed away or deleted is still open with bytes past
   * its committed position: lines that are gone for good once rotation
   * deletes it. Cheap (no object per file); an agent's disk spill uses it
   * to take records while sinks are slow (`spill.atRisk` of the
   * dispatcher). `false` after shutdown.
   */
  atRisk(): boolean;
}

/**
 * Create a {@link FileMonitor}. Validates options and throws `LcError`
 * `LC_ERR_INVALID_OPTION` naming the bad option. Nothing is read before
 * `start()`.
 */
export function createFileMonitor(options: FileMonitorOptions): FileMonitor {
  const engine = new FileMonitorEngine(options);
  return {
    start: once(() => engine.start()),
    flush: () => engine.flush(),
    shutdown: once(() => engine.shutdown()),
    status: () => engine.status(),
    atRisk: () => !engine.stopped && engine.files.atRisk(),
  };
}
