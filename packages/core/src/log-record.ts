import type { Labels } from './labels.js';
import type { Timestamp } from './timestamp.js';

/** Where records come from. Open-ended: custom sources pick their own kind. */
export type SourceKind = 'file' | 'container' | 'http' | (string & {});

/** Identifies the source a record was read from. */
export interface SourceRef {
  /** The kind of source. */
  readonly kind: SourceKind;
  /**
   * Stable id of the source, unique within its kind. Chosen by the source so
   * that it survives what the source can survive: for a file, its identity
   * (not its path, which changes on rename rotation); for a container, the
   * full container id. Acknowledgements and positions are keyed by it.
   */
  readonly id: string;
}

/** A JSON value. Cursors and details must be JSON so they can be persisted. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * Opaque resume point, produced by the source for each record: "resuming
 * from this cursor continues right after this record". Only the source
 * interprets it (a file's identity and the byte offset just past the line;
 * a container's id and Docker timestamp). Everything else stores and passes
 * it through unchanged. Must be JSON so it survives the WAL and the
 * position store.
 */
export type Cursor = JsonValue;

/**
 * One log line with everything needed to deliver it and to resume after it.
 * Records are treated as immutable once dispatched; copies share `labels`
 * (see {@link Labels}).
 */
export interface LogRecord extends Timestamp {
  /** The log line, without its trailing newline. */
  readonly line: string;
  /** Indexed labels (Loki stream labels). Shared, copy on write. */
  readonly labels: Labels;
  /**
   * Non-indexed key/value pairs (Loki structured metadata, Kafka headers).
   * Absent when there are none.
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The source this record was read from. */
  readonly source: SourceRef;
  /**
   * Where the source resumes after this record. `undefined` for sources that
   * cannot resume (HTTP ingest); such records are never committed.
   */
  readonly cursor?: Cursor;
}

/**
 * Size estimate in bytes used for queue and batch budgets: UTF-16 length of
 * the line plus a fixed overhead for the record object. Cheap and monotone,
 * not exact.
 */
export function estimateRecordBytes(record: LogRecord): number {
  return record.line.length + RECORD_OVERHEAD_BYTES;
}

/** Fixed per-record overhead assumed by {@link estimateRecordBytes}. */
export const RECORD_OVERHEAD_BYTES = 64;
