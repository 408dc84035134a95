/** State of a file in {@link FileStatus}. */
export type FileState =
  'active' | 'rotated' | 'deleted' | 'completed' | 'error';

/** What the file monitor knows about one file identity (see `FileMonitor.status`). */
export interface FileStatus {
  /** Source id (`dev:ino`); empty for a path that could not be opened or listed. */
  readonly id: string;
  /** Current (or last known) path. */
  readonly path: string;
  /**
   * `active`: followed at its path; `rotated`/`deleted`: draining through
   * its open handle; `completed`: finished and closed; `error`: see `error`.
   */
  readonly state: FileState;
  /** True while a file descriptor is held. */
  readonly open: boolean;
  /** Bytes read and handed on (a held partial line included). */
  readonly readOffset: number;
  /** Offset committed by the dispatcher's acknowledgements. */
  readonly committedOffset: number;
  /** Size when last observed, bytes. */
  readonly size: number;
  /** `size - readOffset`, bytes not yet read. */
  readonly lagBytes: number;
  /** Records emitted since the monitor started. */
  readonly linesRead: number;
  /** Bytes read since the monitor started. */
  readonly bytesRead: number;
  /** Last read that returned data, ms since the epoch (0 if none). */
  readonly lastReadAtMs: number;
  /** The last error, while it lasts. */
  readonly error?: { readonly code: string; readonly message: string };
}
