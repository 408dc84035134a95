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
};

/** Cursor of a container record. */
export type ContainerCursor = {
  /** Docker timestamp of the line, decimal epoch nanoseconds. */
  readonly timestampNs: string;
  /** Hash of the line, to recognise it when `since` replays it. */
  readonly lineHash: string;
  /** How many lines with exactly this timestamp up to and including it. */
  readonly linesAtTimestamp: number;
};
