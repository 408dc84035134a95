import type { Timestamp } from '@lc/core';
import { parseRfc3339Nano } from '@lc/core';

/** Which output a log entry came from. */
export type ContainerStreamName = 'stdout' | 'stderr';

/**
 * One entry of Docker's log (one json-file message): a complete line with
 * its trailing newline, or a partial chunk of a longer line (Docker splits
 * lines at 16 KiB and timestamps every chunk).
 */
export interface DockerLogEntry {
  readonly stream: ContainerStreamName;
  /** Decimal epoch nanoseconds. */
  readonly timestampNs: string;
  readonly timestamp: Timestamp;
  /** Entry bytes after the timestamp, trailing newline included if any. */
  readonly content: Buffer;
}

/** Size of Docker's line-splitting buffer (daemon/logger/copier.go). */
export const DOCKER_PARTIAL_BYTES = 16 * 1024;
const HEADER_BYTES = 8;
const NEWLINE = 0x0a;
const SPACE = 0x20;
// Docker's RFC3339NanoFixed in UTC: always 30 characters.
const FIXED_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const FIXED_TS_BYTES = 30;

/**
 * Incremental parser of the body of `GET /containers/{id}/logs` with
 * `timestamps=1`: the 8-byte multiplexing frames of a non-TTY container, or
 * the raw stream of a TTY container. Chunk boundaries of the HTTP body do
 * not matter: bytes are buffered until an entry is complete.
 */
export class DockerLogParser {
  private pending: Buffer | undefined;
  private lastSecondsText = '';
  private lastSecondsMs = 0;

  private readonly tty: boolean;
  private readonly onEntry: (entry: DockerLogEntry) => void;
  private readonly onSystemError: (message: string) => void;

  constructor(
    tty: boolean,
    onEntry: (entry: DockerLogEntry) => void,
    onSystemError: (message: string) => void = () => {},
  ) {
    this.tty = tty;
    this.onEntry = onEntry;
    this.onSystemError = onSystemError;
  }

  /** True when bytes of an incomplete entry are buffered. */
  get hasPendingBytes(): boolean {
    return this.pending !== undefined && this.pending.length > 0;
  }

  /** Feed the next chunk of the body. */
  push(chunk: Buffer): void {
    let buf =
      this.pending === undefined || this.pending.length === 0
        ? chunk
        : Buffer.concat([this.pending, chunk]);
    const consumed = this.tty
      ? this.parseRaw(buf, false)
      : this.parseFrames(buf);
    buf = buf.subarray(consumed);
    // Copy the remainder so a small tail does not pin a large chunk.
    this.pending = buf.length === 0 ? undefined : Buffer.from(buf);
  }

  /**
   * The body ended: a TTY stream's last entry may lack its newline (output
   * that ended without one). Frames cannot be cut by the engine, so a
   * non-TTY remainder is a truncated body and is dropped.
   */
  end(): void {
    if (this.tty && this.pending !== undefined)
      this.parseRaw(this.pending, true);
    this.pending = undefined;
  }

  private parseFrames(buf: Buffer): number {
    let pos = 0;
    while (buf.length - pos >= HEADER_BYTES) {
      const type = buf[pos] as number;
      const size = buf.readUInt32BE(pos + 4);
      if (buf.length - pos - HEADER_BYTES < size) break;
      const start = pos + HEADER_BYTES;
      const end = start + size;
      pos = end;
      if (type === 1 || type === 2) {
        this.emit(type === 1 ? 'stdout' : 'stderr', buf, start, end);
      } else if (type === 3) {
        this.onSystemError(buf.toString('utf8', start, end));
      }
    }
    return pos;
  }

  private parseRaw(buf: Buffer, final: boolean): number {
    let pos = 0;
    while (pos < buf.length) {
      const contentStart = pos + FIXED_TS_BYTES + 1;
      if (buf.length < contentStart && !final) break;
      const nl = buf.indexOf(NEWLINE, contentStart);
      // A TTY stream has no frames: a 16 KiB partial chunk is followed
      // directly by the next entry's timestamp.
      const partialEnd = contentStart + DOCKER_PARTIAL_BYTES;
      if (nl === -1 || nl >= partialEnd) {
        if (buf.length < partialEnd + FIXED_TS_BYTES + 1) {
          if (!final) break;
        } else if (this.isTimestampAt(buf, partialEnd)) {
          this.emit('stdout', buf, pos, partialEnd);
          pos = partialEnd;
          continue;
        }
      }
      if (nl === -1) {
        if (!final || buf.length <= pos) break;
        this.emit('stdout', buf, pos, buf.length);
        pos = buf.length;
        break;
      }
      this.emit('stdout', buf, pos, nl + 1);
      pos = nl + 1;
    }
    return pos;
  }

  private isTimestampAt(buf: Buffer, at: number): boolean {
    return (
      buf[at + FIXED_TS_BYTES] === SPACE &&
      FIXED_TS.test(buf.toString('latin1', at, at + FIXED_TS_BYTES))
    );
  }

  private emit(
    stream: ContainerStreamName,
    buf: Buffer,
    start: number,
    end: number,
  ): void {
    const space = buf.indexOf(SPACE, start);
    if (space === -1 || space >= end) {
      this.onSystemError(
        `log entry without timestamp: ${buf.toString('utf8', start, Math.min(end, start + 64))}`,
      );
      return;
    }
    const text = buf.toString('latin1', start, space);
    let timestamp: Timestamp;
    let timestampNs: string;
    if (FIXED_TS.test(text)) {
      // Fast path: the seconds part rarely changes between entries.
      const secondsText = text.slice(0, 19);
      if (secondsText !== this.lastSecondsText) {
        this.lastSecondsMs = Date.parse(`${secondsText}Z`);
        this.lastSecondsText = secondsText;
      }
      const frac = text.slice(20, 29);
      const msPart = Number(frac.slice(0, 3));
      timestamp = {
        timestampMs: this.lastSecondsMs + msPart,
        timestampNanos: Number(frac.slice(3)),
      };
      timestampNs = `${this.lastSecondsMs / 1000}${frac}`;
    } else {
      timestamp = parseRfc3339Nano(text);
      const nanosOfSecond =
        (timestamp.timestampMs % 1000) * 1_000_000 + timestamp.timestampNanos;
      timestampNs = `${Math.floor(timestamp.timestampMs / 1000)}${String(nanosOfSecond).padStart(9, '0')}`;
    }
    this.onEntry({
      stream,
      timestampNs,
      timestamp,
      content: buf.subarray(space + 1, end),
    });
  }
}
