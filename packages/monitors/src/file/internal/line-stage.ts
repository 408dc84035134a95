import type { SplitLine, SplitterCounters } from './line-splitter.js';

/**
 * A complete line of the file as a {@link LineStage} receives it: its
 * bytes as they are in the file (not decoded; a `\r` before the newline
 * kept), valid only during `push` (copy what is kept): the splitter
 * reuses one object for every line.
 */
export interface RawLine {
  /** The line is `buf[start, end)`, without its newline; cut at the splitter's limit when `truncated`. */
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  /** Bytes of the line in the file without its newline (more than `end - start` when truncated). */
  readonly bytes: number;
  readonly truncated: boolean;
  /** Byte offset where the line starts in the file. */
  readonly startOffset: number;
  /** Byte offset just past the line and its newline. */
  readonly endOffset: number;
  /** 1-based line number within the file identity. */
  readonly lineNo: number;
}

/**
 * Decodes the lines of one file identity in a line format (CRI, Docker
 * json-file…) before they become records: it may set each line's text,
 * timestamp and labels, join fragments of one message, and hold lines
 * until the rest arrives. The splitter feeds it every complete line in
 * file order, flushes it whenever it flushes a partial last line (the
 * file was rotated, deleted or truncated), and resets it whenever it
 * restarts at an offset.
 *
 * The cursor rule: a line emitted while fragments are held must carry an
 * `endOffset` no later than the start of the earliest held fragment, so a
 * resume from any committed cursor reads every held fragment again.
 */
export interface LineStage {
  /** Decode one complete line; records go to `out`, fragments may be held (copied). */
  push(line: RawLine, out: SplitLine[]): void;
  /** Emit what is held as records (the file ends: no more lines come). */
  flush(out: SplitLine[]): void;
  /** Forget what is held (reading restarts at another offset). */
  reset(): void;
  /**
   * The identity is dropped, or the monitor stops: release timers. What
   * is held is not emitted (it is read again from the position).
   */
  close?(): void;
  /** Start offset of the earliest held line; undefined when nothing is held. */
  readonly heldFrom: number | undefined;
}

/**
 * What a line format adds to one file identity: its stage and an optional
 * asynchronous step run once before the identity's first read (metadata
 * lookups), so every record of the identity gets the same labels.
 */
export interface FileFormat {
  readonly stage: LineStage;
  /** Runs once before the first read; a rejection is reported, reading goes on. */
  prepare?(): Promise<void>;
  /**
   * True once `prepare` found the identity is not to be captured (the
   * user's choice, e.g. a pod's exclude annotation): the stage drops its
   * lines (counting them) and, as none of them is in flight, the monitor
   * commits its read offset itself, so it is not read again.
   */
  readonly excluded?: boolean;
}

/** Creates the format of each file identity the monitor tracks. */
export type FileFormatFactory = (file: {
  /** The path the identity was found at. */
  readonly path: string;
  /** Its source id (`dev:ino`). */
  readonly id: string;
  /**
   * The monitor's long-line counters (`lc_file_long_lines_total`): a stage
   * that applies the long-line policy counts here.
   */
  readonly counters: SplitterCounters;
  /**
   * Hand lines the stage completes outside `push` and `flush` (a flush
   * timer) to the monitor, as records of this identity, in order after
   * every line emitted before. Ignored once the identity is dropped.
   */
  readonly emit: (lines: SplitLine[]) => void;
  /**
   * True while the identity has bytes not read yet (a read paused by
   * budgets or backpressure, or under way): a timer should not cut a
   * record whose next lines are already written.
   */
  readonly isBehind: () => boolean;
}) => FileFormat;

/**
 * What a source built on the file monitor adds to it (the Kubernetes
 * source: CRI lines and pod labels). Not public: sources of this package
 * construct the engine themselves.
 */
export interface FileMonitorExtensions {
  /** The line format of each identity (see `FileFormat`). */
  readonly format?: FileFormatFactory;
}
