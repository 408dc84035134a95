import type { ContainerCursor, Timestamp } from '@lc/core';
import type {
  ContainerStreamName,
  DockerLogEntry,
} from './docker-log-parser.js';

/** A complete log line, reassembled from one or more Docker entries. */
export interface AssembledLine {
  readonly stream: ContainerStreamName;
  /** The line without its newline (and without `\r` for TTY output). */
  readonly line: string;
  /** Timestamp of the line's first entry. */
  readonly timestamp: Timestamp;
  /** Resuming from it continues right after this line. */
  readonly cursor: ContainerCursor;
  /** Bytes the line took in the log, newline included. */
  readonly bytes: number;
}

/** Options of {@link ContainerLineAssembler}. */
export interface LineAssemblerOptions {
  readonly tty: boolean;
  /** Longer merged lines are emitted in pieces of this size. */
  readonly maxLineBytes: number;
  /** Where the stream resumes: entries up to it are replayed by `since`. */
  readonly resumeFrom?: ContainerCursor;
  readonly onLine: (line: AssembledLine) => void;
  /** An entry replayed by Docker's inclusive `since` was dropped. */
  readonly onBoundaryDuplicate?: () => void;
  /** The replayed boundary did not look like the saved one. */
  readonly onResumeMismatch?: (detail: {
    expected: ContainerCursor;
    reason: 'hash' | 'fewer-lines';
  }) => void;
}

/**
 * The cursor before the first entry: resuming from it reads the whole log.
 */
export const START_CURSOR: ContainerCursor = Object.freeze({
  timestampNs: '',
  lineHash: '',
  linesAtTimestamp: 0,
});

/**
 * How far back before the newest timestamp a resume starts. Docker stamps
 * stdout and stderr in two goroutines, so in the log an entry can follow
 * one with a later timestamp; resuming at the newest timestamp would skip
 * it. Entries out of order by more than this are not protected.
 */
export const RESUME_SKEW_MS = 1_000;

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Turns Docker log entries into lines: merges 16 KiB partial entries per
 * stream, drops the entries Docker replays at the resume point and
 * computes each line's cursor.
 *
 * The cursor describes a resume request over entries in the order Docker
 * returns them (log file order): `timestampNs` is the `since` to ask for,
 * {@link RESUME_SKEW_MS} before the newest timestamp read, and
 * `linesAtTimestamp` is how many of the entries read so far carry a
 * timestamp at or after it, i.e. how many the engine will replay first;
 * `lineHash` identifies the last entry read, checked when the last replayed
 * entry is skipped. Starting a little before the newest timestamp keeps
 * entries that Docker wrote after a later-stamped entry of the other
 * stream. While a partial line is incomplete on one stream, lines
 * completed on the other keep the cursor from before the partial began,
 * so a resume never skips the partial's first chunks.
 */
export class ContainerLineAssembler {
  // Timestamps (ms) of the entries read, in log order, from `head` on:
  // exactly those at or after `maxMs - RESUME_SKEW_MS`.
  private window: number[] = [];
  private head = 0;
  private maxMs = -Infinity;
  private lastHash = '';
  private skipRemaining: number;
  private readonly resumeFrom: ContainerCursor | undefined;
  private safeCursor: ContainerCursor;
  private readonly partial: Record<
    ContainerStreamName,
    PartialLine | undefined
  > = { stdout: undefined, stderr: undefined };

  private readonly options: LineAssemblerOptions;

  constructor(options: LineAssemblerOptions) {
    this.options = options;
    const from = options.resumeFrom;
    this.resumeFrom = from;
    this.skipRemaining =
      from === undefined || from.timestampNs === '' ? 0 : from.linesAtTimestamp;
    this.safeCursor = from ?? START_CURSOR;
  }

  /** True while entries replayed by `since` are still being skipped. */
  get isReplaying(): boolean {
    return this.skipRemaining > 0;
  }

  /** True while a partial line waits for its remaining chunks. */
  get hasPartial(): boolean {
    return (
      this.partial.stdout !== undefined || this.partial.stderr !== undefined
    );
  }

  /**
   * Cursor after everything pushed so far that is complete: where a new
   * stream must resume so that nothing is lost or repeated.
   */
  get cursor(): ContainerCursor {
    return this.safeCursor;
  }

  /** Feed one entry, in the order Docker returned them. */
  push(entry: DockerLogEntry): void {
    this.track(entry);
    if (this.skipRemaining > 0) {
      // Replayed by `since`: already delivered before the resume point.
      this.options.onBoundaryDuplicate?.();
      if (--this.skipRemaining === 0) {
        const from = this.resumeFrom as ContainerCursor;
        if (this.lastHash !== from.lineHash) {
          this.options.onResumeMismatch?.({ expected: from, reason: 'hash' });
        }
      }
      return;
    }

    const content = entry.content;
    const complete =
      content.length > 0 && content[content.length - 1] === NEWLINE;
    const stream = entry.stream;
    const pending = this.partial[stream];
    if (!complete) {
      const piece = Buffer.from(content); // the parser reuses its buffer
      if (pending === undefined) {
        this.partial[stream] = {
          chunks: [piece],
          bytes: piece.length,
          timestamp: entry.timestamp,
        };
      } else {
        pending.chunks.push(piece);
        pending.bytes += piece.length;
      }
      const current = this.partial[stream] as PartialLine;
      if (current.bytes >= this.options.maxLineBytes) {
        this.partial[stream] = undefined;
        this.updateSafe();
        this.emit(
          stream,
          current.chunks,
          current.bytes,
          current.timestamp,
          false,
        );
      }
      return;
    }
    this.partial[stream] = undefined;
    this.updateSafe();
    if (pending === undefined) {
      this.emit(stream, [content], content.length, entry.timestamp, true);
    } else {
      pending.chunks.push(content);
      this.emit(
        stream,
        pending.chunks,
        pending.bytes + content.length,
        pending.timestamp,
        true,
      );
    }
  }

  /**
   * Emit incomplete partial lines as they are: the container stopped with
   * output that did not end in a newline.
   */
  flushPartials(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const pending = this.partial[stream];
      if (pending === undefined) continue;
      this.partial[stream] = undefined;
      this.updateSafe();
      this.emit(
        stream,
        pending.chunks,
        pending.bytes,
        pending.timestamp,
        false,
      );
    }
  }

  private track(entry: DockerLogEntry): void {
    const ms = entry.timestamp.timestampMs;
    if (ms > this.maxMs) this.maxMs = ms;
    const since = this.maxMs - RESUME_SKEW_MS;
    const w = this.window;
    // Kept sorted (entries arrive nearly sorted, so this is ~O(1)) so that
    // the count of entries at or after `since` is exact. An entry already
    // older than `since` is not counted: `since` would not replay it.
    if (ms >= since) {
      let i = w.length;
      w.push(ms);
      while (i > this.head && (w[i - 1] as number) > ms) {
        w[i] = w[i - 1] as number;
        i--;
      }
      w[i] = ms;
    }
    while (this.head < w.length && (w[this.head] as number) < since) {
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > w.length) {
      this.window = w.slice(this.head);
      this.head = 0;
    }
    this.lastHash = hashBytes(entry.content);
  }

  private updateSafe(): void {
    if (this.hasPartial || this.maxMs === -Infinity) return;
    const timestampNs = `${this.maxMs - RESUME_SKEW_MS}000000`;
    const count = this.window.length - this.head;
    const safe = this.safeCursor;
    if (safe.timestampNs === timestampNs && safe.linesAtTimestamp === count) {
      return;
    }
    this.safeCursor = {
      timestampNs,
      lineHash: this.lastHash,
      linesAtTimestamp: count,
    };
  }

  private emit(
    stream: ContainerStreamName,
    chunks: Buffer[],
    bytes: number,
    timestamp: Timestamp,
    endsWithNewline: boolean,
  ): void {
    const buf =
      chunks.length === 1
        ? (chunks[0] as Buffer)
        : Buffer.concat(chunks, bytes);
    let end = endsWithNewline ? buf.length - 1 : buf.length;
    if (this.options.tty && end > 0 && buf[end - 1] === CR) end--;
    this.options.onLine({
      stream,
      line: buf.toString('utf8', 0, end),
      timestamp,
      cursor: this.safeCursor,
      bytes,
    });
  }
}

interface PartialLine {
  chunks: Buffer[];
  bytes: number;
  timestamp: Timestamp;
}

/** Compare two decimal nanosecond strings without BigInt. */
export function compareNs(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * FNV-1a (32-bit) of the entry bytes as 8 hex digits. Only recognises the
 * boundary entry on resume; not a security hash.
 */
export function hashBytes(buf: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i++) {
    h ^= buf[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
