import type {
  Clock,
  Cursor,
  Logger,
  LogRecord,
  MetricsRegistry,
  SourceRef,
} from '@lc/core';
import type { AckItem } from './ack-tracker.js';
import type { ResolvedSpill } from './resolve-options.js';

// A disk-log entry holds up to this many records / estimated bytes.
export const CHUNK_MAX_RECORDS = 1000;
export const CHUNK_MAX_BYTES = 1024 * 1024;
// Records waiting to be written are in memory: past this, the spill counts
// as full (a slow or failing disk backpressures instead of growing memory).
export const MAX_UNWRITTEN_BYTES = 4 * 1024 * 1024;
// After a failed open or append, the disk is not tried again for this long.
export const RETRY_AFTER_MS = 5_000;

/** Source of the acknowledgements of records read back from a durable spill. */
export const SPILL_SOURCE_KIND = 'lc-spill';

/**
 * How a record handed back to memory is acknowledged: `item`, the ack of a
 * record taken back before it was written (it is tracked as if it had never
 * left memory); `as`, a record read back from disk (its position is
 * committed already; its settlement acknowledges the spill instead);
 * `undefined`, tracked normally (non-durable spills).
 */
export type SpillAck =
  | { readonly item: AckItem }
  | { readonly as: { readonly source: SourceRef; readonly cursor: Cursor } }
  | undefined;

/** Cursor of a record read back: chunk `seq`, its index `i` of `n`. */
export interface SpillCursor {
  readonly seq: number;
  readonly i: number;
  readonly n: number;
}

/** What a {@link Spill} needs. */
export interface SpillSetup extends ResolvedSpill {
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: MetricsRegistry;
  readonly onError: (error: unknown) => void;
  /** The in-memory intake has room for a reloaded record. */
  readonly memoryHasRoom: () => boolean;
  /** Admit a reloaded record into memory (the normal admission path). */
  readonly admit: (record: LogRecord, ack: SpillAck) => void;
  /** A reload pass ended (records may have moved, the spill may be empty). */
  readonly afterReload: () => void;
  /** `records` (`bytes` estimated) went into the spill. */
  readonly onSpilled: (records: number, bytes: number) => void;
  /** `records` could not be read back (damaged on disk): counted, logged. */
  readonly onLost: (records: number) => void;
  /** `records` were deleted to make room (`whenFull: drop_oldest`). */
  readonly onDropped: (records: number) => void;
  /** Durable spills: track a spilled record, in arrival order. */
  readonly track: (record: LogRecord) => AckItem;
  /** Durable spills: these records are written: the spill holds them. */
  readonly settle: (items: readonly AckItem[]) => void;
}
