import type { Cursor } from './log-record.js';

/** Lifecycle state of a tracked file. */
export type FilePositionStatus =
  'active' | 'idle' | 'rotated' | 'deleted' | 'completed';

/** Read position of one file identity. */
export interface FilePosition {
  readonly kind: 'file';
  /** Stable source id of the file identity (see `SourceRef.id`). */
  readonly id: string;
  /** Path the identity was last seen at. */
  readonly path: string;
  /** Device number, decimal string (64-bit safe). */
  readonly dev: string;
  /** Inode number, decimal string (64-bit safe). */
  readonly ino: string;
  /** Hex hash of the first `fingerprintBytes` bytes of the file. */
  readonly fingerprint: string;
  /** How many head bytes `fingerprint` covers (grows while the file is short). */
  readonly fingerprintBytes: number;
  /** Committed byte offset: everything before it is settled. */
  readonly offset: number;
  /** Hex hash of the bytes just before `offset` (empty when offset is 0). */
  readonly offsetMarker: string;
  /** File size in bytes when last observed. */
  readonly size: number;
  /** File mtime in ms since the epoch when last observed. */
  readonly mtimeMs: number;
  /** When the file was last read, ms since the epoch. */
  readonly lastReadAtMs: number;
  /** Lines committed from this identity. */
  readonly logCount: number;
  /** Bytes committed from this identity. */
  readonly bytesRead: number;
  /**
   * How many times the position was reset (truncation, copytruncate, inode
   * reuse) — which content of the identity `offset` belongs to. Absent: 0.
   * Commits of a cursor with an older epoch are ignored.
   */
  readonly epoch?: number;
  readonly status: FilePositionStatus;
  /** Last update, ms since the epoch. */
  readonly updatedAtMs: number;
}

/** Lifecycle state of a tracked container. */
export type ContainerPositionStatus =
  'running' | 'paused' | 'stopped' | 'destroyed';

/** Read position of one container's log stream. */
export interface ContainerPosition {
  readonly kind: 'container';
  /** Full container id (64 hex characters). */
  readonly id: string;
  readonly name: string;
  readonly image: string;
  /**
   * Docker timestamp of the last delivered line, decimal epoch nanoseconds.
   * Empty string when nothing was delivered yet.
   */
  readonly lastTimestampNs: string;
  /**
   * Hash of the last delivered line, and how many lines carrying exactly
   * `lastTimestampNs` were delivered, so a resume with Docker's inclusive
   * `since` skips exactly those and no more.
   */
  readonly lastLineHash: string;
  readonly linesAtLastTimestamp: number;
  readonly logCount: number;
  readonly bytesRead: number;
  readonly status: ContainerPositionStatus;
  /** Last update, ms since the epoch. */
  readonly updatedAtMs: number;
}

/** A source position, user-defined kinds included. */
export type Position =
  | FilePosition
  | ContainerPosition
  | {
      readonly kind: string;
      readonly id: string;
      readonly cursor: Cursor;
      readonly updatedAtMs: number;
    };

/** The key a position is stored under: `${kind}:${id}`. */
export function positionKey(position: { kind: string; id: string }): string {
  return `${position.kind}:${position.id}`;
}
