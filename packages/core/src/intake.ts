import type { LifecycleOptions } from './sink.js';
import type { Cursor, LogRecord, SourceRef } from './log-record.js';

/**
 * Where sources hand records to (implemented by the dispatcher). Works like
 * a Node writable: records are accepted, and a `false` return asks the
 * source to pause until `whenWritable()` resolves. A source that ignores
 * it overshoots the budget by its own chunk size, no more.
 */
export interface Intake {
  /**
   * Accept one record. Returns `false` when the intake is over its budget:
   * stop reading and await {@link Intake.whenWritable}.
   */
  dispatch(record: LogRecord): boolean;
  /** Accept records in order; same return value as `dispatch`. */
  dispatchMany(records: readonly LogRecord[]): boolean;
  /**
   * Resolves when the intake has room again (immediately if it has now).
   * Rejects `LC_ERR_SHUT_DOWN` once the intake shuts down, and
   * `LC_ERR_ABORTED` when `signal` aborts.
   */
  whenWritable(options?: LifecycleOptions): Promise<void>;
}

/**
 * Receives the settled watermark per source (implemented by the position
 * manager, called by the dispatcher's ack tracker). `cursor` is the cursor
 * of the last record of an unbroken settled prefix of the source's records.
 * Settlements are coalesced into one commit per source, except that the
 * last cursor of each `epoch` (see {@link FileCursor}) is committed on its
 * own: a committer redirects older epochs (the copy of copytruncated
 * content), which a coalesced commit of the newer epoch would skip.
 */
export interface CursorCommitter {
  commit(source: SourceRef, cursor: Cursor): void;
}

/** Cursor of a file record: the byte offset just past the line. */
export type FileCursor = {
  /** Byte offset just past the line (and its newline). */
  readonly offset: number;
  /** 1-based line count of the identity up to and including this record. */
  readonly line: number;
  /**
   * The position's `epoch` when the line was read (absent: 0). A truncation
   * or copytruncate keeps the identity (dev:ino) but resets its position
   * and bumps the epoch; acknowledgements of lines read before it can still
   * arrive afterwards, and their cursors must not move the position of the
   * new content. A commit with an older epoch is ignored.
   */
  readonly epoch?: number;
};

/**
 * Cursor of a container record: a resume request over the entries in the
 * order Docker returns them (its log-file order, stdout and stderr
 * interleaved as written).
 *
 * Docker's `since` is inclusive and has second-level coarseness in some
 * drivers, and a line on one stream can be written after a later-stamped
 * line of the other stream. So the cursor does not point at the last line;
 * it names a resume point a little (1 s in `@lc/monitors`) before the newest
 * timestamp read, and how many entries at or after that point the engine
 * will replay first. The reader skips exactly that many entries on resume
 * and checks the last skipped one against `lineHash`.
 *
 * The empty cursor (`timestampNs: ''`, `linesAtTimestamp: 0`) means "from
 * the beginning of the container's log".
 */
export type ContainerCursor = {
  /**
   * The `since` to ask Docker for on resume, decimal epoch nanoseconds
   * (a string so nanosecond precision survives; `''` = from the start).
   */
  readonly timestampNs: string;
  /**
   * Hash of the last entry read before this cursor was taken; checked
   * against the last replayed entry, a mismatch is reported as a resume
   * mismatch (the log was rotated or rewritten underneath).
   */
  readonly lineHash: string;
  /**
   * How many entries Docker returns at or after `timestampNs` that were
   * already read: the number to skip on resume (not only the lines with
   * exactly the newest timestamp).
   */
  readonly linesAtTimestamp: number;
};
