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

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Turns Docker log entries into lines: merges 16 KiB partial entries per
 * stream, drops the entries Docker replays at the resume boundary and
 * computes each line's cursor.
 *
 * The cursor is a watermark over entries in the order Docker returns them
 * (log file order): the highest timestamp seen, how many entries carried
 * exactly that timestamp and the hash of the last of them. Resuming with
 * `since` = that timestamp replays exactly those entries first, and they
 * are skipped. While a partial line is incomplete on one stream, lines
 * completed on the other keep the cursor from before the partial began,
 * so a resume never skips the partial's first chunks.
 */
export class ContainerLineAssembler {
  private maxNs: string;
  private countAtMax: number;
  private hashAtMax: string;
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
    this.maxNs = from?.timestampNs ?? '';
    this.countAtMax = from?.linesAtTimestamp ?? 0;
    this.hashAtMax = from?.lineHash ?? '';
    this.skipRemaining = from?.linesAtTimestamp ?? 0;
    this.safeCursor = from ?? START_CURSOR;
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
    const ts = entry.timestampNs;
    if (this.skipRemaining > 0) {
      const from = this.resumeFrom as ContainerCursor;
      const cmp = compareNs(ts, from.timestampNs);
      if (cmp <= 0) {
        this.options.onBoundaryDuplicate?.();
        if (cmp === 0 && --this.skipRemaining === 0) {
          if (hashBytes(entry.content) !== from.lineHash) {
            this.options.onResumeMismatch?.({ expected: from, reason: 'hash' });
          }
        }
        return;
      }
      // Fewer entries at the boundary than saved: the log was cut (engine
      // log rotation, container recreated). Keep everything from here.
      this.skipRemaining = 0;
      this.options.onResumeMismatch?.({
        expected: from,
        reason: 'fewer-lines',
      });
    }

    const cmp = compareNs(ts, this.maxNs);
    if (cmp > 0) {
      this.maxNs = ts;
      this.countAtMax = 1;
      this.hashAtMax = hashBytes(entry.content);
    } else if (cmp === 0) {
      this.countAtMax++;
      this.hashAtMax = hashBytes(entry.content);
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

  private updateSafe(): void {
    if (this.hasPartial || this.maxNs === '') return;
    const safe = this.safeCursor;
    if (
      safe.timestampNs === this.maxNs &&
      safe.linesAtTimestamp === this.countAtMax
    ) {
      return;
    }
    this.safeCursor = {
      timestampNs: this.maxNs,
      lineHash: this.hashAtMax,
      linesAtTimestamp: this.countAtMax,
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
