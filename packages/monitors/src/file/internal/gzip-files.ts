import type { BigIntStats, Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Clock, Logger } from '@lc/core';
import { LcError } from '@lc/core';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FileDrain } from './file-drain.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import type { GzipReadOutcome } from './gzip-reader.js';
import { readGzipFile } from './gzip-reader.js';
import { GzipStart } from './gzip-start.js';
import type { SplitLine } from './line-splitter.js';
import type { RecordEmitter } from './record-emitter.js';
import type { TailedFile } from './tailed-file.js';

/** A `.gz` is read once it was not modified for this long: `gzip` writes it progressively. */
export const GZIP_SETTLE_MS = 1000;
/** How often a `.gz` waiting for the file it holds to be finished is looked at again. */
const WAIT_FOR_ORIGIN_MS = 500;
/** How often the position of a finished `.gz` still present is refreshed (kept from expiring). */
const REFRESH_MS = 3_600_000;
/** Finished `.gz` identities remembered, so rescans skip them without I/O. */
const MAX_DONE_REMEMBERED = 10_000;
/** zlib output chunk of the salvage pass after damage (zlib drops the failing call's output). */
const SALVAGE_CHUNK_BYTES = 1024;

/** What {@link GzipFiles} needs from the monitor. */
export interface GzipFilesContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    'startPosition' | 'newFileStartPosition' | 'rotatedFileGraceMs'
  >;
  readonly clock: Clock;
  readonly files: Pick<FileRegistry, 'byId' | 'finishedReadOffset' | 'retire'>;
  readonly positions: Pick<
    FilePositions,
    | 'committed'
    | 'list'
    | 'upsert'
    | 'reset'
    | 'durable'
    | 'refresh'
    | 'commitRead'
  >;
  /** `blocked` is read after each chunk: reading waits while the intake pushes back. */
  readonly emitter: Pick<RecordEmitter, 'emit' | 'blocked'>;
  readonly drain: Pick<FileDrain, 'finish'>;
  readonly metrics: Pick<FileMetrics, 'bytesRead' | 'errors' | 'rotations'>;
  readonly logger: Logger;
  /** Paths that had a saved identity at start (their new identities are rotations). */
  readonly savedPaths: ReadonlySet<string>;
  readonly waitWritable: () => Promise<void>;
  readonly isStopped: () => boolean;
  /** Where a failed `format.prepare` is reported (reading goes on). */
  readonly onError: (error: unknown) => void;
}

/** Per `.gz` identity being handled. */
interface GzState {
  /** Monotonic ms before which it is not looked at again. */
  retryAt: number;
  /** Set once it waits for the file it holds (logged once). */
  waitingFor?: string;
}

/**
 * Compressed files: `*.gz` matched by the globs, the `.gz` of a generation
 * gone before it was read to its end (`GzipAdoption`), and unseen `.gz`
 * generations (`SiblingSweep`). Read by decompressed offset, and tracked
 * by content as well as by inode. One mechanism for all of them:
 *
 * - Identity: a `.gz`'s fingerprint is that of its decompressed head, so
 *   a file compressed after it was read (`app.log.1` → `app.log.1.gz`, a
 *   new inode) is recognised by the position of the file it holds, and
 *   only what was not read of that file is read from it (see `GzipStart`).
 *   While that file is still being read, the `.gz` waits.
 * - Done: a `.gz` read to its end has a `completed` position whose offset
 *   is its decompressed size; a restart does not read it again (its head
 *   is checked: a new file on a reused inode is read), rescans skip it
 *   without I/O, and its position is refreshed while it exists.
 * - Damage: a truncated or corrupt stream is reported (log line with the
 *   file and the compressed offset, `lc_file_errors_total{kind}`, the
 *   file's status) after everything before the damage was delivered; a
 *   `.gz` still being written (modified recently) is retried instead.
 */
export class GzipFiles {
  private readonly o: GzipFilesContext['options'];
  private readonly clock: Clock;
  private readonly files: GzipFilesContext['files'];
  private readonly positions: GzipFilesContext['positions'];
  private readonly emitter: GzipFilesContext['emitter'];
  private readonly drain: GzipFilesContext['drain'];
  private readonly metrics: GzipFilesContext['metrics'];
  private readonly logger: Logger;
  private readonly start: GzipStart;
  private readonly waitWritable: () => Promise<void>;
  private readonly isStopped: () => boolean;
  private readonly onError: (error: unknown) => void;
  private readonly states = new Map<string, GzState>();
  private readonly done = new Map<
    string,
    { size: number; mtimeMs: number; refreshedAtMs: number }
  >();

  constructor(ctx: GzipFilesContext) {
    this.o = ctx.options;
    this.clock = ctx.clock;
    this.files = ctx.files;
    this.positions = ctx.positions;
    this.emitter = ctx.emitter;
    this.drain = ctx.drain;
    this.metrics = ctx.metrics;
    this.logger = ctx.logger;
    this.start = new GzipStart(ctx);
    this.waitWritable = ctx.waitWritable;
    this.isStopped = ctx.isStopped;
    this.onError = ctx.onError;
  }

  /**
   * True when the `.gz` identity `id` was finished and is unchanged (same
   * size and mtime): not to be tracked again. Refreshes its position now
   * and then so it does not expire while the file exists.
   */
  isDone(id: string, st: BigIntStats | Stats): boolean {
    const d = this.done.get(id);
    if (d === undefined) return false;
    if (d.size !== Number(st.size) || d.mtimeMs !== msOf(st.mtimeMs)) {
      this.done.delete(id);
      return false;
    }
    const now = this.clock.now();
    if (now - d.refreshedAtMs >= REFRESH_MS) {
      d.refreshedAtMs = now;
      this.positions.refresh(id);
    }
    return true;
  }

  /** Check and read one `.gz` identity; returns the compressed bytes handled. */
  async service(f: TailedFile): Promise<number> {
    const now = this.clock.monotonicNow();
    let s = this.states.get(f.id);
    if (s === undefined) {
      s = { retryAt: 0 };
      this.states.set(f.id, s);
    }
    // Looked at again on the next passes (a pass clears `dirty`).
    f.dirty = true;
    if (now < s.retryAt) return 0;
    let st: Stats;
    try {
      st = await stat(f.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Gone, or renamed (`app.log.1.gz` -> `app.log.2.gz`): a rescan finds
      // it again under its new name. Not started yet: no position recorded.
      this.states.delete(f.id);
      if (f.initialized) await this.drain.finish(f, 'deleted');
      else this.files.retire(f);
      return 0;
    }
    f.mtimeMs = Math.floor(st.mtimeMs);
    // The copy of a file that is gone is complete: gzip removes the file
    // once the archive is written, the kubelet renames its `.tmp`.
    if (
      f.compressedFrom === undefined &&
      this.clock.now() - st.mtimeMs < GZIP_SETTLE_MS
    ) {
      s.retryAt = now + GZIP_SETTLE_MS;
      return 0;
    }
    if (!f.initialized) {
      const next = await this.start.decide(f);
      if (next === 'wait') {
        if (s.waitingFor === undefined) {
          s.waitingFor = f.path;
          this.logger.info(
            { path: f.path },
            'file monitor: a .gz holds a file still being read: it waits for that file to finish',
          );
        }
        s.retryAt = now + WAIT_FOR_ORIGIN_MS;
        return 0;
      }
      if (next === 'done') {
        await this.finish(f, st);
        return 0;
      }
    }
    if (f.unsaved) {
      // Durable before a line of it is delivered (see FileReader.service).
      f.unsaved = false;
      await this.positions.durable();
    }
    if (!f.prepared) {
      // Once per identity, before its first line: its records' labels.
      f.prepared = true;
      await f.format?.prepare?.().catch(this.onError);
    }
    if (this.isStopped()) return 0;
    return this.read(f, s, st);
  }

  private async read(f: TailedFile, s: GzState, st: Stats): Promise<number> {
    const before = f.bytesRead;
    const onChunk = async (chunk: Buffer): Promise<boolean> => {
      const lines: SplitLine[] = [];
      f.feed(chunk, lines);
      f.lastReadAtMs = this.clock.now();
      this.emitter.emit(f, lines);
      if (this.emitter.blocked) await this.waitWritable();
      return !this.isStopped();
    };
    let outcome = await readGzipFile(f.path, f.splitter.fedOffset, onChunk);
    if (outcome.kind === 'damaged' && outcome.reason === 'corrupt') {
      // zlib drops the output of the call that failed: decode again up to
      // the damage in small steps to deliver what precedes it.
      const again = await readGzipFile(f.path, f.splitter.fedOffset, onChunk, {
        chunkSize: SALVAGE_CHUNK_BYTES,
      });
      if (again.kind !== 'end') outcome = again;
    }
    this.metrics.bytesRead.inc(f.bytesRead - before);
    if (this.isStopped() || outcome.kind === 'stopped')
      return f.bytesRead - before;
    if (outcome.kind === 'damaged') {
      if (outcome.reason === 'truncated' && (await this.stillWritten(f, s, st)))
        return f.bytesRead - before;
      this.report(f, outcome);
    }
    await this.finish(f, st);
    return f.bytesRead - before;
  }

  /**
   * A truncated `.gz` changed during the read, or was modified less than
   * `rotatedFileGraceMs` ago: gzip may still be writing it. Read on later
   * from where it stopped.
   */
  private async stillWritten(
    f: TailedFile,
    s: GzState,
    st: Stats,
  ): Promise<boolean> {
    // The copy of a file that is gone was complete when found.
    if (f.compressedFrom !== undefined) return false;
    const after = await stat(f.path).catch(() => undefined);
    if (after === undefined) return false;
    const changed = after.size !== st.size || after.mtimeMs !== st.mtimeMs;
    const ageMs = this.clock.now() - after.mtimeMs;
    if (!changed && ageMs >= this.o.rotatedFileGraceMs) return false;
    s.retryAt =
      this.clock.monotonicNow() +
      (changed
        ? GZIP_SETTLE_MS
        : Math.max(GZIP_SETTLE_MS, this.o.rotatedFileGraceMs - ageMs));
    return true;
  }

  private report(
    f: TailedFile,
    outcome: Extract<GzipReadOutcome, { kind: 'damaged' }>,
  ): void {
    const details = {
      path: f.path,
      reason: outcome.reason,
      compressedOffset: outcome.compressedOffset,
      decompressedOffset: f.splitter.fedOffset,
    };
    this.metrics.errors.inc({ kind: `gzip-${outcome.reason}` });
    f.error = new LcError({
      code: 'LC_ERR_FILE_READ',
      message: `${f.path} is a ${outcome.reason} gzip file (${outcome.message}) at about compressed byte ${outcome.compressedOffset}: the ${f.splitter.fedOffset} bytes before were delivered`,
      details,
    });
    this.logger.warn(
      { ...details, error: outcome.message },
      'file monitor: damaged .gz file: everything before the damage was delivered',
    );
  }

  /** Done with it: flush, record `completed` at its decompressed size, remember it. */
  private async finish(f: TailedFile, st: Stats): Promise<void> {
    this.states.delete(f.id);
    if (f.initialized) f.size = f.splitter.fedOffset;
    await this.drain.finish(f, 'completed');
    // Excluded by the user (its lines dropped): nothing of it is in flight.
    if (f.format?.excluded === true) this.positions.commitRead(f);
    if (this.done.size >= MAX_DONE_REMEMBERED) {
      const oldest = this.done.keys().next().value;
      if (oldest !== undefined) this.done.delete(oldest);
    }
    this.done.set(f.id, {
      size: st.size,
      mtimeMs: msOf(st.mtimeMs),
      refreshedAtMs: this.clock.now(),
    });
  }
}

/** Whole milliseconds of an mtime from `Stats` (float) or `BigIntStats`. */
function msOf(mtimeMs: number | bigint): number {
  return Math.floor(Number(mtimeMs));
}
