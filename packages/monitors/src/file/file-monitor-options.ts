import type {
  Cursor,
  FilePosition,
  Instrumentation,
  Intake,
  Position,
  SourceRef,
} from '@lc/core';
import type { FileEncoding, LongLinePolicy } from './internal/line-splitter.js';
import type {
  MultilineConfig,
  MultilineOptions,
} from '../multiline/multiline-options.js';

export type { FileEncoding, LongLinePolicy } from './internal/line-splitter.js';

/** Where to start reading a file that has no saved position. */
export type StartPosition = 'beginning' | 'end' | 'recent';

/** Why a file's read offset went back to 0 (passed to `positions.reset`). */
export type FileResetReason =
  'rotated' | 'truncated' | 'copytruncate' | 'inode-reused' | 'new';

/**
 * The part of `@lc/positions`' `PositionManager` the file monitor uses. A
 * `PositionManager` satisfies it; so can a custom tracker.
 */
export interface FilePositionTracker {
  /** The committed position of a source, if any. */
  get(kind: string, id: string): Position | undefined;
  /** Every position, optionally of one kind. */
  list(kind?: string): Position[];
  /** Record what the monitor observed; never moves `offset` backwards. */
  upsertFile(position: FilePosition): void;
  /**
   * Move a source's offset back to 0, for the given reason. `movedTo` names
   * the identity the old content lives on in (a copytruncate copy), where
   * late commits of what was read before the reset belong.
   */
  reset(
    kind: string,
    id: string,
    reason: FileResetReason,
    options?: { readonly movedTo?: string },
  ): void;
  /**
   * Resolves once every change made so far is durable (true) or its save
   * failed (false). When given, a new identity is not read before its
   * position is durable, so a monitor killed after reading leaves the next
   * one that identity to finish. `PositionManager` has it.
   */
  whenSaved?(): Promise<boolean>;
  /**
   * Record a position of another kind (the `file-watch` markers, see
   * `recordFileWatches`). Without it no watch is recorded and a restart
   * after a crash loop knows only the identities saved. `PositionManager`
   * has it.
   */
  commit?(source: SourceRef, cursor: Cursor): void;
}

/** Options of {@link createFileMonitor}. */
export interface FileMonitorOptions extends Instrumentation {
  /** Where records go (the dispatcher). Required. */
  intake: Intake;
  /** Where committed offsets are read from and file metadata written to. Required. */
  positions: FilePositionTracker;
  /** Absolute globs of files to read (`*`, `?`, `[...]`, `**`, `{a,b}`). Required, non-empty. */
  include: readonly string[];
  /** Globs of files and directories to skip (a matching directory is not descended). @default [] */
  exclude?: readonly string[];
  /** Extra labels on every record. @default {} */
  labels?: Readonly<Record<string, string>>;
  /** Value of the `instance` label. @default os.hostname() */
  instance?: string;
  /** Directory levels below a pattern's base that `**` descends. @default 16 */
  maxDepth?: number;
  /** Match files and directories whose name starts with a dot. @default false */
  includeHidden?: boolean;
  /** Follow symlinks (each target directory once, no loops). @default true */
  followSymlinks?: boolean;
  /** Stop tracking more files than this (counted, logged). @default 100_000 */
  maxFiles?: number;
  /** Full rescan (discovery + stat of every file) interval, ms. @default 10_000 */
  rescanIntervalMs?: number;
  /** How often files written recently are checked without waiting for an event, ms. @default 250 */
  pollIntervalMs?: number;
  /**
   * Longest wait between two checks of an idle file's path without an
   * event, ms. An idle file is checked again after half the time it has
   * been idle (at least `pollIntervalMs`), at most this long: `fs.watch`
   * events read a file that grows again at once, and this bounds how late
   * growth, truncation or rotation is noticed when an event never comes
   * (inotify queue overflow, network filesystems, `watch: false`). Checks
   * of 10,000 idle files cost 10,000 / this many `stat`s a second.
   * @default 60_000
   */
  maxIdlePollIntervalMs?: number;
  /** Use `fs.watch` on directories for fast discovery and reads. @default true */
  watch?: boolean;
  /**
   * How long a read woken by an `fs.watch` event waits for more writes to
   * gather, ms: one pass per window instead of one per write (files written
   * every few ms otherwise keep passes running back to back: 100 files at
   * 1,000 lines/s cost 63 % of a core with 0, 21 % with 250). Adds at most
   * this much latency; 0 reads at once. @default 250
   */
  watchDelayMs?: number;
  /** Start position of files present at `start()` with no saved position. @default 'beginning' */
  startPosition?: StartPosition;
  /** Start position of files discovered after `start()` with no saved position. @default 'beginning' */
  newFileStartPosition?: StartPosition;
  /** Bytes before the end that `recent` starts at (then the next line start). @default 65_536 */
  recentBytes?: number;
  /** Size of each read (one reused buffer), bytes. @default 262_144 */
  readBufferBytes?: number;
  /** Longest line kept, bytes; longer lines follow `longLinePolicy`. @default 262_144 */
  maxLineBytes?: number;
  /** `truncate` keeps the first `maxLineBytes`; `skip` drops the line. Reading goes on either way. @default 'truncate' */
  longLinePolicy?: LongLinePolicy;
  /** Encoding of the files; invalid bytes become U+FFFD and are counted. @default 'utf8' */
  encoding?: FileEncoding;
  /**
   * How long an unterminated last line of a rotated, deleted or truncated
   * file waits for more bytes before it is emitted as a line, ms. Live
   * files never emit a partial line (it is read again after a restart).
   * @default 1000
   */
  partialLineFlushMs?: number;
  /** How long a renamed-away file stays open to drain late writes, ms. @default 5000 */
  rotatedFileGraceMs?: number;
  /**
   * How long a deleted file stays open to drain, ms; longer only while it
   * still has a read backlog (backpressure), so no line is lost. @default 5000
   */
  deletedFileGraceMs?: number;
  /** Most file descriptors held at once. @default 1024 */
  maxOpenFiles?: number;
  /** Close a file after this long without growth; reopened when it changes, ms. @default 60_000 */
  idleCloseMs?: number;
  /** Bytes read from one file per tick, so one backlog cannot starve the rest. @default 4_194_304 */
  maxBytesPerFilePerTick?: number;
  /** Bytes read from all files per tick, bounding memory per tick. @default 16_777_216 */
  maxBytesPerTick?: number;
  /**
   * Join lines into multiline records (a preset or a pattern, see
   * `MultilineOptions`). One joiner per file identity; a joined record
   * carries the cursor of its last line, and pending lines are not
   * committed, so a restart reads a half-read record again whole.
   * @default none
   */
  multiline?: MultilineOptions;
  /**
   * Read `*.gz` files matched by `include`: decompressed, whole, once
   * (see the README: identity of compressed files). `false` skips them.
   * @default true
   */
  readCompressed?: boolean;
  /**
   * Files and directories of the agent itself (its output files, data
   * and position directories) never to read. The process's own stdout and
   * stderr are excluded automatically when they are files.
   * @default []
   */
  selfPaths?: readonly string[];
  /** How many files the read-lag metric shows (largest lag first). @default 20 */
  lagMetricTopN?: number;
}

/** Options after defaults, validated. */
export interface ResolvedFileMonitorOptions {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly instance: string;
  readonly maxDepth: number;
  readonly includeHidden: boolean;
  readonly followSymlinks: boolean;
  readonly maxFiles: number;
  readonly rescanIntervalMs: number;
  readonly pollIntervalMs: number;
  readonly maxIdlePollIntervalMs: number;
  readonly watch: boolean;
  readonly watchDelayMs: number;
  readonly startPosition: StartPosition;
  readonly newFileStartPosition: StartPosition;
  readonly recentBytes: number;
  readonly readBufferBytes: number;
  readonly maxLineBytes: number;
  readonly longLinePolicy: LongLinePolicy;
  readonly encoding: FileEncoding;
  readonly partialLineFlushMs: number;
  readonly rotatedFileGraceMs: number;
  readonly deletedFileGraceMs: number;
  readonly maxOpenFiles: number;
  readonly idleCloseMs: number;
  readonly maxBytesPerFilePerTick: number;
  readonly maxBytesPerTick: number;
  readonly multiline: MultilineConfig | undefined;
  readonly readCompressed: boolean;
  readonly selfPaths: readonly string[];
  readonly lagMetricTopN: number;
}
