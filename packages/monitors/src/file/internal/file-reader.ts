import type { BigIntStats, Stats } from 'node:fs';
import { stat as statCallback } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '@lc/core';
import {
  computeFingerprint,
  fileSourceId,
  findRotatedFile,
} from '@lc/positions';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FileDrain } from './file-drain.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import type { CopyRecovery } from './copy-recovery.js';
import type { FileResume } from './file-resume.js';
import { FINGERPRINT_BYTES } from './content-head.js';
import type { FileScanner } from './file-scanner.js';
import type { GzipAdoption } from './gzip-adoption.js';
import type { GzipFiles } from './gzip-files.js';
import type { SplitLine } from './line-splitter.js';
import type { OpenFiles } from './open-files.js';
import type { RecordEmitter } from './record-emitter.js';
import type { SiblingSweep } from './sibling-sweep.js';
import type { TailedFile } from './tailed-file.js';
import { TAIL_BYTES } from './tailed-file.js';

/** What {@link FileReader} needs from the monitor. */
export interface FileReaderContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    'maxBytesPerFilePerTick' | 'pollIntervalMs'
  >;
  readonly clock: Clock;
  readonly files: Pick<FileRegistry, 'byId' | 'byPath'>;
  readonly openFiles: Pick<OpenFiles, 'open' | 'close' | 'touch'>;
  readonly resume: Pick<FileResume, 'initialize'>;
  /** Truncation and copytruncate while reading. */
  readonly rewrites: Pick<CopyRecovery, 'handleRewrite'>;
  /** `blocked` is read after each chunk: reading stops when the intake pushes back. */
  readonly emitter: Pick<RecordEmitter, 'emit' | 'blocked'>;
  readonly positions: Pick<
    FilePositions,
    'upsert' | 'positionOf' | 'durable' | 'commitRead'
  >;
  readonly metrics: Pick<FileMetrics, 'bytesRead' | 'rotations'>;
  readonly sweep: Pick<SiblingSweep, 'sweepSiblings'>;
  readonly scanner: Pick<FileScanner, 'consider'>;
  readonly drain: Pick<FileDrain, 'finish'>;
  /** Compressed files are read by it. */
  readonly gzip: Pick<GzipFiles, 'service'>;
  readonly isStopped: () => boolean;
  /** Where a failed `format.prepare` is reported (reading goes on). */
  readonly onError: (error: unknown) => void;
  /** Compressed copies of identities that left their path unread. */
  readonly compressed: Pick<GzipAdoption, 'adopt'>;
  /** Run a pass soon (a file waiting for its identity's save can be read). */
  readonly wake: () => void;
}

/**
 * Services one file in a pass: checks its path (rename, deletion,
 * replacement, truncation), opens and initializes it, and reads new bytes
 * within the pass budget.
 */
export class FileReader {
  private readonly options: FileReaderContext['options'];
  private readonly clock: Clock;
  private readonly files: FileReaderContext['files'];
  private readonly openFiles: FileReaderContext['openFiles'];
  private readonly resume: FileReaderContext['resume'];
  private readonly rewrites: FileReaderContext['rewrites'];
  private readonly emitter: FileReaderContext['emitter'];
  private readonly positions: FileReaderContext['positions'];
  private readonly metrics: FileReaderContext['metrics'];
  private readonly sweep: FileReaderContext['sweep'];
  private readonly scanner: FileReaderContext['scanner'];
  private readonly drain: FileReaderContext['drain'];
  private readonly gzip: FileReaderContext['gzip'];
  private readonly isStopped: () => boolean;
  private readonly onError: (error: unknown) => void;
  private readonly compressed: FileReaderContext['compressed'];
  private readonly wake: () => void;

  constructor(ctx: FileReaderContext) {
    this.wake = ctx.wake;
    this.onError = ctx.onError;
    this.compressed = ctx.compressed;
    this.options = ctx.options;
    this.clock = ctx.clock;
    this.files = ctx.files;
    this.openFiles = ctx.openFiles;
    this.resume = ctx.resume;
    this.rewrites = ctx.rewrites;
    this.emitter = ctx.emitter;
    this.positions = ctx.positions;
    this.metrics = ctx.metrics;
    this.sweep = ctx.sweep;
    this.scanner = ctx.scanner;
    this.drain = ctx.drain;
    this.gzip = ctx.gzip;
    this.isStopped = ctx.isStopped;
  }

  /** Check and read one file; returns the bytes read. */
  async service(
    f: TailedFile,
    tickBudget: number,
    buf: Buffer,
  ): Promise<number> {
    f.dirty = false;
    if (f.gzip) return this.gzip.service(f);
    if (f.state === 'active' && !f.finishOnly) {
      // The path is checked at most once per poll interval: passes repeat
      // quickly while a file has a backlog or the intake pushes back, and a
      // rename seen one interval later loses nothing (the open handle keeps
      // reading the renamed identity; rewrites in place are caught by the
      // read itself, see `readChunk`).
      const now = this.clock.monotonicNow();
      if (
        f.handle === undefined ||
        !f.initialized ||
        now - f.pathCheckedAt >= this.options.pollIntervalMs
      ) {
        const proceed = await this.checkPath(f);
        if (!proceed) return 0;
        f.pathCheckedAt = now;
      }
    } else if (f.handle !== undefined && f.state === 'rotated') {
      const st = await f.handle.stat();
      if (st.nlink === 0) {
        f.state = 'deleted';
        f.drainSince = this.clock.monotonicNow();
      }
      f.size = st.size;
    }
    if (f.handle === undefined) {
      if (
        f.initialized &&
        f.size <= f.splitter.fedOffset &&
        f.state === 'active'
      )
        return 0;
      if (!(await this.openFiles.open(f))) return 0;
    }
    if (!f.initialized) await this.resume.initialize(f, buf);
    if (f.unsaved) {
      // Durable before its first line can be delivered: an agent killed
      // from here on leaves the next one an identity to finish, wherever
      // the file is renamed meanwhile. Not awaited here: the save may be
      // up to a positions interval away, and the pass (every other file)
      // must not wait for it; the file is read once it is done.
      if (!f.saving) {
        f.saving = true;
        this.positions
          .durable()
          .catch(this.onError)
          .finally(() => {
            f.saving = false;
            f.unsaved = false;
            f.dirty = true;
            this.wake();
          });
      }
      return 0;
    }
    if (!f.prepared) {
      // Once per identity, before its first line: its records' labels.
      f.prepared = true;
      await f.format?.prepare?.().catch(this.onError);
      if (this.isStopped()) return 0;
    }
    let budget = Math.min(this.options.maxBytesPerFilePerTick, tickBudget);
    let total = 0;
    f.backlog = false;
    while (budget > 0 && !this.isStopped()) {
      const lines: SplitLine[] = [];
      const r = await f.readChunk(buf, budget, lines);
      if (r.kind === 'changed') {
        if (f.handle !== undefined) f.size = (await f.handle.stat()).size;
        await this.rewrites.handleRewrite(
          f,
          f.size < f.splitter.fedOffset ? 'truncate' : 'copytruncate',
        );
        continue;
      }
      if (r.kind === 'eof') break;
      total += r.bytes;
      budget -= r.bytes;
      f.lastGrowthAt = this.clock.monotonicNow();
      this.openFiles.touch(f);
      f.lastReadAtMs = this.clock.now();
      this.emitter.emit(f, lines);
      if (
        f.fingerprintBytes < FINGERPRINT_BYTES &&
        f.splitter.fedOffset > f.fingerprintBytes &&
        f.handle !== undefined
      ) {
        const fp = await computeFingerprint(f.handle, FINGERPRINT_BYTES);
        f.fingerprint = fp.fingerprint;
        f.fingerprintBytes = fp.fingerprintBytes;
        this.positions.upsert(f);
      }
      if (this.emitter.blocked) break;
      // A short read means end of file: skip the read that would say so.
      if (r.bytes < Math.min(budget + r.bytes, buf.length - TAIL_BYTES)) break;
    }
    if (budget <= 0 || (this.emitter.blocked && total > 0)) f.backlog = true;
    if (f.format?.excluded === true) this.positions.commitRead(f);
    this.metrics.bytesRead.inc(total);
    return total;
  }

  /**
   * While the intake pushes back: notice that an open active file left its
   * path (renamed away or deleted), so it counts as at risk and is read
   * first once the intake takes records again. Reads nothing.
   */
  async noticeLeftPath(f: TailedFile): Promise<void> {
    if (f.state !== 'active' || f.finishOnly || f.gzip) return;
    if (f.handle === undefined || !f.initialized) return;
    const st = await statPath(f.path, false);
    if (
      st !== undefined &&
      Number.isSafeInteger(st.dev) &&
      Number.isSafeInteger(st.ino) &&
      identityOf(st) === f.id
    )
      return;
    if (await this.checkPath(f)) f.pathCheckedAt = this.clock.monotonicNow();
  }

  /** Stat the path of an active file: detect deletion, replacement, truncation. */
  private async checkPath(f: TailedFile): Promise<boolean> {
    // Numbers first (no BigInt allocations on the hot path); BigInt only
    // when the identity is not exact as a number or did not match.
    let st: Stats | BigIntStats | undefined = await statPath(f.path, false);
    const same =
      st !== undefined &&
      Number.isSafeInteger(st.dev) &&
      Number.isSafeInteger(st.ino) &&
      identityOf(st) === f.id;
    if (st !== undefined && !same) st = await statPath(f.path, true);
    if (st !== undefined && (same || identityOf(st) === f.id)) {
      f.verifiedAtMs = this.clock.now();
      f.size = Number(st.size);
      f.mtimeMs = Math.floor(Number(st.mtimeMs));
      if (f.initialized && f.size < f.splitter.fedOffset) {
        // A file closed while idle is opened first: a copytruncate's copy
        // is found by comparing what it read with the copy's bytes. Left
        // closed, it was read again only once it grew past its old size,
        // from there: the lines written since the truncation were lost.
        if (f.handle === undefined) await this.openFiles.open(f);
        await this.rewrites.handleRewrite(f, 'truncate');
      }
      return true;
    }
    // The identity left its path: renamed away or deleted, maybe replaced.
    if (this.files.byPath.get(f.path) === f.id)
      this.files.byPath.delete(f.path);
    const livePath = f.path;
    // Last moment `f` was known at its path: its last check, or else its
    // last write seen at tracking (younger generations are written later).
    const seenAt = f.verifiedAtMs > 0 ? f.verifiedAtMs : f.mtimeMs - 1;
    await this.leavePath(f);
    if (st !== undefined) {
      // Generations created and rotated away between two checks were never seen.
      await this.sweep.sweepSiblings(livePath, seenAt, f);
    }
    if (st !== undefined && st.isFile())
      // Not the quick stat: a mismatch was stat'ed again with BigInts.
      this.scanner.consider(f.path, st as BigIntStats, 'rotated');
    return this.files.byId.has(f.id);
  }

  /** Start draining an identity that is no longer at its path. */
  private async leavePath(f: TailedFile): Promise<void> {
    if (f.handle === undefined) {
      // Closed while idle, or renamed before it was first opened: look for
      // it next to its old path (rename rotation).
      const found = await findRotatedFile(
        this.positions.positionOf(f, 'rotated'),
        dirname(f.path),
      );
      if (found !== undefined) {
        f.path = found;
        if (!(await this.openFiles.open(f))) return;
      }
    }
    if (f.handle === undefined) {
      // Not open (closed while idle, or never opened): renamed and then
      // compressed before it was read to its end, its content is in the `.gz`.
      if (
        f.initialized &&
        (await this.compressed.adopt(
          this.positions.positionOf(f, 'rotated'),
        )) !== undefined
      ) {
        // What is held (a partial line, fragments) is read again from the
        // copy: it is read from where this one was read up to.
        f.splitter.reset(f.splitter.lineStartOffset, f.splitter.lastLineNo);
        await this.drain.finish(f, 'rotated');
        return;
      }
      this.metrics.rotations.inc({ kind: 'delete' });
      await this.drain.finish(f, 'deleted');
      return;
    }
    const st = await f.handle.stat();
    f.state = st.nlink === 0 ? 'deleted' : 'rotated';
    f.drainSince = this.clock.monotonicNow();
    f.size = st.size;
    this.metrics.rotations.inc({
      kind: f.state === 'deleted' ? 'delete' : 'rename',
    });
    this.positions.upsert(f);
  }
}

/** The source id of what a stat describes. */
function identityOf(st: Stats | BigIntStats): string {
  return fileSourceId(String(st.dev), String(st.ino));
}

/** `stat` of a path; `undefined` when it is gone. */
async function statPath(
  path: string,
  bigint: boolean,
): Promise<Stats | BigIntStats | undefined> {
  try {
    return bigint ? await stat(path, { bigint: true }) : await quickStat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    return undefined;
  }
}

/**
 * `stat` through the callback API: half the CPU of `fs/promises` per call
 * (no promise-based request object), which matters for the path checks of
 * 10,000 idle files.
 */
function quickStat(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => {
    statCallback(path, (error, st) => {
      if (error === null) resolve(st);
      else reject(error);
    });
  });
}
