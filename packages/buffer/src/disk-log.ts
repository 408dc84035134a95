import type { Instrumentation } from '@lc/core';
import { openDiskLog } from './internal/disk-log-impl.js';

/** What to do when `maxTotalBytes` or `maxSegments` would be exceeded. */
export type RetentionLimitPolicy = 'drop_oldest' | 'block' | 'fail';

/** Retention limits of a {@link DiskLog}. All optional; none by default. */
export interface DiskLogRetention {
  /**
   * Delete sealed segments whose newest record is older than this, acked or
   * not (an explicit expiry: applies whatever `onLimit` says). Every
   * unacknowledged record deleted is counted and logged. @default unlimited
   */
  maxAgeMs?: number;
  /** Upper bound of the bytes of all segment files. @default unlimited */
  maxTotalBytes?: number;
  /** Upper bound of the number of segment files. @default unlimited */
  maxSegments?: number;
  /**
   * When a size/count limit would be exceeded: delete the oldest segment
   * (counted, logged), make the writer wait until acknowledgements free
   * space, or reject the append with `LC_ERR_BUFFER_FULL`.
   * @default 'drop_oldest'
   */
  onLimit?: RetentionLimitPolicy;
}

/** Options of {@link createDiskLog}. */
export interface DiskLogOptions extends Instrumentation {
  /** Directory of the log; created when missing. One log per directory. */
  directory: string;
  /** Segment size that triggers rotation, in bytes. @default 67108864 (64 MiB) */
  maxSegmentBytes?: number;
  /**
   * When appends are made durable. `always`: `append` resolves after
   * fdatasync (group commit: one fdatasync per write batch). `interval`:
   * resolves once written to the OS; fdatasync every `fsyncIntervalMs`.
   * `never`: the OS decides. See docs/buffer-format.md for what a crash can
   * lose under each. @default 'interval'
   */
  fsync?: 'always' | 'interval' | 'never';
  /** fdatasync period for `fsync: 'interval'`, in ms. @default 1000 */
  fsyncIntervalMs?: number;
  /** Block compression of new segments. @default 'none' */
  compression?: 'none' | 'gzip';
  /**
   * 32-byte key: new records are written in AES-256-GCM blocks. Opening a
   * log written with another key (or encrypted, without a key) rejects
   * `LC_ERR_DECRYPT`. @default no encryption
   */
  encryptionKey?: Buffer;
  /** Retention limits. @default none */
  retention?: DiskLogRetention;
  /** Metrics label `buffer`. @default the directory's base name */
  name?: string;
}

/** A record read back from the log. */
export interface DiskLogEntry {
  /** Sequence number, assigned in append order, never reused. */
  seq: number;
  /** Milliseconds since the epoch, given at append (default: append time). */
  timestampMs: number;
  /** Source tag given at append, if any. */
  source?: string;
  /** The payload bytes (a private copy). */
  payload: Buffer;
}

/** Options of {@link DiskLog.read}. */
export interface DiskLogReadOptions {
  /** Start at this seq (inclusive). @default the oldest record */
  fromSeq?: number;
  /** Only records with `timestampMs >=` this. */
  fromTimestampMs?: number;
  /** Only records with `timestampMs <=` this. */
  toTimestampMs?: number;
  /** Only records with this source tag. */
  source?: string;
  /** Also yield acknowledged records still on disk. @default false */
  includeAcknowledged?: boolean;
}

/** Counters and gauges of a {@link DiskLog}. */
export interface DiskLogStats {
  /** The seq the next appended record gets. */
  nextSeq: number;
  /** Segment files on disk. */
  segments: number;
  /** Bytes of all segment files. */
  diskBytes: number;
  /** Records on disk not acknowledged yet. */
  unackedRecords: number;
  /** Records and bytes (framed) appended by this process. */
  appendedRecords: number;
  appendedBytes: number;
  /** Records and payload bytes yielded by `read` in this process. */
  readRecords: number;
  readBytes: number;
  /** fdatasync calls made. */
  fsyncs: number;
  /** Damaged ranges/files detected (and quarantined) since open. */
  corruptions: number;
  /** Bytes moved or copied to `quarantine/`. */
  quarantinedBytes: number;
  /** Unacknowledged records deleted by retention. */
  droppedRecords: number;
  /** Unacknowledged records lost to corruption. */
  lostRecords: number;
  /** Appends currently waiting for space (`onLimit: 'block'`). */
  blockedAppends: number;
}

/** Input of {@link DiskLog.appendMany}. */
export interface DiskLogAppendInput {
  payload: Uint8Array;
  /** @default now */
  timestampMs?: number;
  /** Source tag (≤ 65535 UTF-8 bytes), indexed per segment for `read`. */
  source?: string;
}

/**
 * A segmented, append-only, checksummed record log with crash-safe
 * acknowledgements. After `shutdown`, `append*`, `ack` and `read` fail
 * with `LC_ERR_SHUT_DOWN`; `flush`/`shutdown` resolve.
 */
export interface DiskLog {
  /**
   * Append one record; resolves its seq once durable per the fsync policy.
   * Rejects `LC_ERR_DISK_FULL` (nothing partial is left; later appends work
   * again when space returns), `LC_ERR_BUFFER_FULL` (`onLimit: 'fail'`),
   * `LC_ERR_RECORD_TOO_LARGE`, `LC_ERR_BUFFER_IO`.
   */
  append(
    payload: Uint8Array,
    meta?: { timestampMs?: number; source?: string },
  ): Promise<number>;
  /** Append records in one group commit; their seqs are consecutive. */
  appendMany(entries: ReadonlyArray<DiskLogAppendInput>): Promise<number[]>;
  /**
   * Stream records in seq order, one at a time (never the backlog in
   * memory); only unacknowledged ones by default. Segments that cannot
   * match the filters are skipped using their index. Records appended after
   * the iteration starts are not included. Damaged ranges met on the way
   * are quarantined, counted and skipped.
   */
  read(options?: DiskLogReadOptions): AsyncIterable<DiskLogEntry>;
  /**
   * Acknowledge records, in any order. Persisted to the ack journal at
   * once and made durable per the fsync policy; segments whose records are
   * all acknowledged are deleted. Throws `LC_ERR_INVALID_INPUT` for a seq
   * never handed out.
   */
  ack(seqs: number | readonly number[]): void;
  /** The seq the next appended record will get. */
  readonly nextSeq: number;
  stats(): DiskLogStats;
  /** Write pending appends and acks and fdatasync them now. */
  flush(): Promise<void>;
  /** Stop accepting appends, flush, checkpoint acks, close. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Open (creating) the log in `options.directory`: recover its state, heal
 * torn tails and damaged segments (quarantined under
 * `directory/quarantine/`, counted), and return it ready for appends.
 * Rejects `LC_ERR_INVALID_OPTION` for bad options and `LC_ERR_DECRYPT`
 * for a missing or wrong `encryptionKey`; never for damaged data.
 */
export function createDiskLog(options: DiskLogOptions): Promise<DiskLog> {
  return openDiskLog(options);
}
