import type { FilePosition, Logger } from '@lc/core';
import { fingerprintOf } from '@lc/positions';
import type {
  ResolvedFileMonitorOptions,
  StartPosition,
} from '../file-monitor-options.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import { FINGERPRINT_BYTES, sameHead } from './content-head.js';
import { findGzipOrigin, markerMatches } from './gzip-origin.js';
import { readGzipHead } from './gzip-reader.js';
import type { TailedFile } from './tailed-file.js';

/** What {@link GzipStart} needs from the monitor. */
export interface GzipStartContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    'startPosition' | 'newFileStartPosition'
  >;
  readonly files: Pick<FileRegistry, 'byId' | 'finishedReadOffset'>;
  readonly positions: Pick<
    FilePositions,
    'committed' | 'list' | 'upsert' | 'reset'
  >;
  readonly metrics: Pick<FileMetrics, 'rotations'>;
  readonly logger: Logger;
  /** Paths that had a saved identity at start (their new identities are rotations). */
  readonly savedPaths: ReadonlySet<string>;
}

/** What to do with a `.gz` identity: read it (from its splitter's offset), wait, or nothing. */
export type GzipStartDecision = 'read' | 'wait' | 'done';

/**
 * Where a `.gz` identity starts, in its decompressed content. Its
 * fingerprint is its decompressed head, so positions of compressed and
 * plain files compare alike:
 *
 * 1. its own saved position with that head: resume there (a finished one,
 *    `completed` at its decompressed size, is done); another head is a
 *    file that took the inode over (reset);
 * 2. else the file it holds (`compressedFrom`, set when the monitor found
 *    it as a gone identity's copy, or the saved position it starts like):
 *    wait while that one is still read; then read from where it was read
 *    in this process, else from its committed offset once the bytes
 *    before it match its offset marker (any doubt reads it whole);
 * 3. else it was never seen: read whole, unless it was present at start
 *    (or appeared) where the start policy says not to read history.
 */
export class GzipStart {
  private readonly o: GzipStartContext['options'];
  private readonly files: GzipStartContext['files'];
  private readonly positions: GzipStartContext['positions'];
  private readonly metrics: GzipStartContext['metrics'];
  private readonly logger: Logger;
  private readonly savedPaths: ReadonlySet<string>;

  constructor(ctx: GzipStartContext) {
    this.o = ctx.options;
    this.files = ctx.files;
    this.positions = ctx.positions;
    this.metrics = ctx.metrics;
    this.logger = ctx.logger;
    this.savedPaths = ctx.savedPaths;
  }

  /** Decide for `f` (not initialized): sets its fingerprint, offset and position. */
  async decide(f: TailedFile): Promise<GzipStartDecision> {
    const head = await readGzipHead(f.path, FINGERPRINT_BYTES);
    const fp = fingerprintOf(head);
    f.fingerprint = fp.fingerprint;
    f.fingerprintBytes = fp.fingerprintBytes;
    const saved = this.positions.committed(f.id);
    if (saved !== undefined) {
      f.epoch = saved.epoch ?? 0;
      if (sameHead(head, saved)) {
        f.splitter.reset(saved.offset, saved.logCount);
        if (saved.status === 'completed' && saved.offset >= saved.size) {
          f.size = saved.size;
          return 'done';
        }
        f.initialized = true;
        this.positions.upsert(f);
        return 'read';
      }
      // Another file on the inode of a finished one.
      this.positions.reset(f.id, 'inode-reused');
      this.metrics.rotations.inc({ kind: 'inode-reused' });
      f.epoch = this.positions.committed(f.id)?.epoch ?? 0;
    }
    const adopted = f.compressedFrom;
    const origin =
      adopted === undefined
        ? findGzipOrigin(this.positions.list(), f.id, f.path, head)
        : this.latest(adopted);
    // An adopted copy holds an identity that is gone (a file tracked
    // under its id now took its inode over).
    if (
      adopted === undefined &&
      origin !== undefined &&
      this.files.byId.has(origin.id)
    )
      return 'wait';
    const readUpTo =
      origin === undefined
        ? undefined
        : this.files.finishedReadOffset(origin.id, origin);
    if (
      origin !== undefined &&
      (readUpTo !== undefined || (await this.markerMatchesLogged(f, origin)))
    ) {
      // Read from where that file was read up to; the position starts at
      // what was committed of it (a crash re-reads the lines in flight).
      f.splitter.reset(Math.max(origin.offset, readUpTo ?? 0), origin.logCount);
      f.initialized = true;
      this.positions.upsert(
        f,
        origin.offset,
        origin.offsetMarker,
        undefined,
        origin.logCount,
      );
      // An adopted copy was counted when it was found.
      if (adopted === undefined)
        this.metrics.rotations.inc({ kind: 'compressed' });
      this.logger.info(
        {
          path: f.path,
          holds: origin.path,
          fromOffset: f.splitter.fedOffset,
        },
        'file monitor: a .gz holds a file already read: reading what was not',
      );
      return 'read';
    }
    f.splitter.reset(0, 0);
    if (adopted === undefined && this.startPolicy(f) !== 'beginning') {
      // History the user asked not to read: remembered as done.
      f.size = 0;
      return 'done';
    }
    f.initialized = true;
    this.positions.upsert(f, 0, '');
    return 'read';
  }

  /**
   * The committed position of the identity `adopted` was taken from (acks
   * in flight when it was adopted may have moved it), unless its id now
   * holds other content (reset for a file that took the inode over).
   */
  private latest(adopted: FilePosition): FilePosition {
    const now = this.positions.committed(adopted.id);
    return now !== undefined &&
      now.fingerprint === adopted.fingerprint &&
      (now.epoch ?? 0) === (adopted.epoch ?? 0) &&
      now.offset >= adopted.offset
      ? now
      : adopted;
  }

  private startPolicy(f: TailedFile): StartPosition {
    if (f.context === 'startup' && !this.savedPaths.has(f.trackedPath))
      return this.o.startPosition;
    return f.context === 'discovered'
      ? this.o.newFileStartPosition
      : 'beginning';
  }

  /** {@link markerMatches}, logged when not. */
  private async markerMatchesLogged(
    f: TailedFile,
    origin: FilePosition,
  ): Promise<boolean> {
    const ok = await markerMatches(f.path, origin);
    if (!ok)
      this.logger.info(
        { path: f.path, like: origin.path, offset: origin.offset },
        'file monitor: a .gz starts like a file already read but differs at its offset: reading it whole',
      );
    return ok;
  }
}
