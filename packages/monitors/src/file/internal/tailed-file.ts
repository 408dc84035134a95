import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type {
  FilePosition,
  FilePositionStatus,
  Labels,
  SourceRef,
} from '@lc/core';
import { freezeLabels } from '@lc/core';
import type { LcError } from '@lc/core';
import type { SplitLine, SplitterCounters } from './line-splitter.js';
import { LineSplitter } from './line-splitter.js';
import type { MultilineJoiner } from '../../multiline/multiline-joiner.js';
import { joinerOf } from '../../multiline/multiline-joiner.js';
import type { MultilineConfig } from '../../multiline/multiline-options.js';
import type { FileFormat } from './line-stage.js';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';

/** Bytes before the read offset kept in memory to detect rewrites. */
export const TAIL_BYTES = 64;

/** Lifecycle of a tracked identity. */
export type TailState = 'active' | 'rotated' | 'deleted';

/** How a file came to be tracked: decides the start position. */
export type TrackContext = 'startup' | 'discovered' | 'rotated' | 'finish';

/** Result of one read. */
export type ReadOutcome =
  | { readonly kind: 'data'; readonly bytes: number }
  | { readonly kind: 'eof' }
  | { readonly kind: 'changed' };

/** Build the shared, frozen label object of one file. */
export function fileLabels(
  path: string,
  options: ResolvedFileMonitorOptions,
): Labels {
  return freezeLabels({
    source: 'file',
    file_path: path,
    file_name: basename(path),
    ...options.labels,
    instance: options.labels.instance ?? options.instance,
  });
}

/**
 * One file identity (dev+inode) being read: its handle, where reading is,
 * the bytes just before that (to notice rewrites), and the line state.
 * The monitor owns the lifecycle; this class only reads and keeps state.
 */
export class TailedFile {
  readonly source: SourceRef;
  handle: FileHandle | undefined;
  state: TailState = 'active';
  initialized = false;
  /** Read to the end, then stop (rotated while down, copytruncate copy). */
  finishOnly = false;
  /**
   * Its identity was just recorded and may not be durable yet: the next
   * read waits for the position save first (see `FilePositions.durable`).
   */
  unsaved = false;
  /** True while the save its first read waits for is pending (`unsaved`). */
  saving = false;
  /** The start offset to use when the monitor already knows it (copy recovery). */
  presetStart: { offset: number; lineNo: number } | undefined;
  /** Read decompressed (a `.gz`, with `readCompressed`): by `GzipFiles`. */
  readonly gzip: boolean;
  /**
   * The saved position of the identity this `.gz` holds, when the monitor
   * found it as the compressed copy of an identity gone unfinished
   * (`GzipAdoption`): read from where that one was read.
   */
  compressedFrom: FilePosition | undefined;
  /** The line format's per-identity part, when the monitor has one. */
  readonly format: FileFormat | undefined;
  /** `format.prepare` ran (or there is none to run). */
  prepared: boolean;
  readonly splitter: LineSplitter;
  readonly joiner: MultilineJoiner<SplitLine> | undefined;
  size = 0;
  mtimeMs = 0;
  fingerprint = '';
  fingerprintBytes = 0;
  /** Epoch of the position (see `FileCursor.epoch`), stamped on every cursor. */
  epoch = 0;
  /** Monotonic ms of the last read that returned bytes (or of tracking). */
  lastGrowthAt: number;
  /** Monotonic ms when draining began (rotated or deleted). */
  drainSince = 0;
  lastReadAtMs = 0;
  /** Wall ms when the identity was last seen at its path (0: never checked). */
  verifiedAtMs = 0;
  /** Monotonic ms of the last path check (see `FileReader.service`). */
  pathCheckedAt = -Infinity;
  /** Monotonic ms when an idle file is next checked without an event (see `ReadPass`). */
  idleCheckAt = 0;
  /** Told when the file is marked dirty (the read pass wakes it). */
  onDirty: ((f: TailedFile) => void) | undefined;
  private dirtyFlag = true;
  /** Something may have changed: read (or check) it in the next pass. */
  get dirty(): boolean {
    return this.dirtyFlag;
  }
  set dirty(value: boolean) {
    this.dirtyFlag = value;
    if (value) this.onDirty?.(this);
  }
  /** Being read by a pass worker: not to be closed for the open-file budget. */
  busy = false;
  backlog = false;
  linesRead = 0;
  bytesRead = 0;
  error: LcError | undefined;
  retryAt = 0;
  private carry: Buffer | undefined;
  private readonly tail = Buffer.alloc(TAIL_BYTES);
  private tailLen = 0;
  /** The fingerprinted head bytes, until reading has gone past them. */
  private head: Buffer | undefined;

  readonly id: string;
  readonly dev: string;
  readonly ino: string;
  path: string;
  /** The path it was tracked at (decides its start position). */
  readonly trackedPath: string;
  readonly labels: Labels;
  readonly context: TrackContext;

  constructor(
    id: string,
    dev: string,
    ino: string,
    path: string,
    labels: Labels,
    context: TrackContext,
    options: ResolvedFileMonitorOptions,
    counters: SplitterCounters,
    multiline: MultilineConfig | undefined,
    now: number,
    format?: FileFormat,
  ) {
    this.id = id;
    this.dev = dev;
    this.ino = ino;
    this.path = path;
    this.trackedPath = path;
    this.labels = labels;
    this.context = context;
    this.source = Object.freeze({ kind: 'file', id });
    this.gzip = options.readCompressed && path.endsWith('.gz');
    this.format = format;
    this.prepared = format?.prepare === undefined;
    this.splitter = new LineSplitter(
      options.encoding,
      options.maxLineBytes,
      options.longLinePolicy,
      counters,
      0,
      0,
      format?.stage,
    );
    this.joiner =
      multiline === undefined ? undefined : joinerOf<SplitLine>(multiline);
    this.lastGrowthAt = now;
  }

  /** Start reading at `offset`, remembering the bytes before it when known. */
  async startAt(offset: number, lineNo: number): Promise<void> {
    this.splitter.reset(offset, lineNo);
    this.joiner?.clear();
    this.tailLen = 0;
    if (offset > 0 && this.handle !== undefined && !this.gzip) {
      const len = Math.min(TAIL_BYTES, offset);
      const { bytesRead } = await this.handle.read(
        this.tail,
        0,
        len,
        offset - len,
      );
      this.tailLen = bytesRead === len ? len : 0;
    }
  }

  /** A copy of the bytes just before the read offset (up to {@link TAIL_BYTES}). */
  tailCopy(): Buffer {
    return Buffer.from(this.tail.subarray(0, this.tailLen));
  }

  /** Forget the rewrite-detection bytes (after a truncation). */
  clearTail(): void {
    this.tailLen = 0;
  }

  /**
   * The head bytes the fingerprint was computed over. Reads that cover
   * them must find them again, else they report `changed`: the file was
   * truncated and rewritten between the fingerprint and the read (where
   * no bytes before the offset exist yet to compare).
   */
  expectHead(head: Buffer): void {
    this.head = head.length > 0 ? head : undefined;
  }

  /**
   * Read up to `maxBytes` new bytes into `buf` and split them into `out`.
   * Re-reads the last {@link TAIL_BYTES} bytes before the offset and
   * reports `changed` when they differ or are gone: the file was truncated
   * or rewritten in place (copytruncate), even if it grew back past the offset.
   */
  async readChunk(
    buf: Buffer,
    maxBytes: number,
    out: SplitLine[],
  ): Promise<ReadOutcome> {
    const handle = this.handle;
    if (handle === undefined) return { kind: 'eof' };
    const pos = this.splitter.fedOffset;
    const overlap = Math.min(this.tailLen, pos);
    const want = Math.min(buf.length - overlap, maxBytes);
    const { bytesRead } = await handle.read(
      buf,
      0,
      want + overlap,
      pos - overlap,
    );
    if (overlap > 0) {
      if (bytesRead < overlap) return { kind: 'changed' };
      if (
        buf.compare(
          this.tail,
          this.tailLen - overlap,
          this.tailLen,
          0,
          overlap,
        ) !== 0
      ) {
        return { kind: 'changed' };
      }
    }
    const n = bytesRead - overlap;
    const head = this.head;
    if (head !== undefined) {
      if (pos >= head.length) this.head = undefined;
      else {
        const end = Math.min(head.length, pos + Math.max(0, n));
        if (buf.compare(head, pos, end, overlap, overlap + end - pos) !== 0)
          return { kind: 'changed' };
        // End of file inside the head: shorter than when it was hashed.
        if (end < head.length && bytesRead < want + overlap)
          return { kind: 'changed' };
        if (end === head.length) this.head = undefined;
      }
    }
    if (n <= 0) return { kind: 'eof' };
    const used = this.splitter.feed(buf.subarray(overlap, bytesRead), out);
    if (used === 0) return { kind: 'eof' };
    this.rememberTail(buf.subarray(overlap, overlap + used));
    this.bytesRead += used;
    return { kind: 'data', bytes: used };
  }

  /** Feed decompressed bytes (gzip files) without rewrite detection. */
  feed(data: Buffer, out: SplitLine[]): void {
    const chunk =
      this.carry === undefined ? data : Buffer.concat([this.carry, data]);
    const used = this.splitter.feed(chunk, out);
    this.carry =
      used < chunk.length ? Buffer.from(chunk.subarray(used)) : undefined;
    this.bytesRead += data.length;
  }

  /** The position to report to the tracker. */
  toPosition(
    offset: number,
    offsetMarker: string,
    logCount: number,
    bytesCommitted: number,
    status: FilePositionStatus,
    nowMs: number,
  ): FilePosition {
    return {
      kind: 'file',
      id: this.id,
      path: this.path,
      dev: this.dev,
      ino: this.ino,
      fingerprint: this.fingerprint,
      fingerprintBytes: this.fingerprintBytes,
      offset,
      offsetMarker,
      size: this.size,
      mtimeMs: this.mtimeMs,
      lastReadAtMs: this.lastReadAtMs,
      logCount,
      bytesRead: bytesCommitted,
      status,
      updatedAtMs: nowMs,
    };
  }

  private rememberTail(data: Buffer): void {
    if (data.length >= TAIL_BYTES) {
      data.copy(this.tail, 0, data.length - TAIL_BYTES);
      this.tailLen = TAIL_BYTES;
      return;
    }
    const keep = Math.min(this.tailLen, TAIL_BYTES - data.length);
    this.tail.copy(this.tail, 0, this.tailLen - keep, this.tailLen);
    data.copy(this.tail, keep);
    this.tailLen = keep + data.length;
  }
}
