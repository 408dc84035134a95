import type { BigIntStats } from 'node:fs';
import type { Clock, FilePosition } from '@lc/core';
import { LcError } from '@lc/core';
import { fileSourceId } from '@lc/positions';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FileStatus } from '../file-status.js';
import type { FileMetrics } from './file-metrics.js';
import type { SplitLine, SplitterCounters } from './line-splitter.js';
import type { FileFormatFactory } from './line-stage.js';
import type { TrackContext } from './tailed-file.js';
import { fileLabels, TailedFile } from './tailed-file.js';
import { VersionedMap } from './versioned-map.js';

/** Bound on finished identities remembered to avoid re-reading. */
const MAX_FINISHED_REMEMBERED = 10_000;

/** What {@link FileRegistry} needs from the monitor. */
export interface FileRegistryContext {
  readonly options: ResolvedFileMonitorOptions;
  /** Shared by every file's splitter; published by the read loop. */
  readonly counters: SplitterCounters;
  readonly clock: Clock;
  readonly metrics: Pick<FileMetrics, 'filesActive' | 'errors'>;
  readonly onError: (error: unknown) => void;
  /** The committed position of an identity (for status). */
  readonly committed: (id: string) => FilePosition | undefined;
  /** The line format of each identity, when lines are in one (CRI…). */
  readonly format?: FileFormatFactory;
  /** Emit lines a format's stage completed outside a read (its timer). */
  readonly emitLate?: (f: TailedFile, lines: SplitLine[]) => void;
  /**
   * Told when an identity needs a pass's attention: tracked, marked dirty,
   * or given lines outside a read (the read pass parks idle files).
   */
  readonly wake?: (f: TailedFile) => void;
}

/**
 * The tracked file identities (by id and by the path each owns), the ones
 * finished recently, and errors of files and paths: what `status()` reports.
 */
export class FileRegistry {
  /** Tracked identities by `dev:ino`. */
  readonly byId = new Map<string, TailedFile>();
  /** The identity at each matched path (finishing identities own none). */
  readonly byPath = new VersionedMap<string, string>();
  /** Identities finished recently, oldest first: last status and head. */
  private readonly finished = new Map<
    string,
    { readonly status: FileStatus; readonly head: string }
  >();
  private readonly errorsByPath = new Map<string, LcError>();
  private readonly options: ResolvedFileMonitorOptions;
  private readonly counters: SplitterCounters;
  private readonly clock: Clock;
  private readonly metrics: FileRegistryContext['metrics'];
  private readonly onError: (error: unknown) => void;
  private readonly committed: FileRegistryContext['committed'];
  private readonly format: FileFormatFactory | undefined;
  private readonly emitLate: FileRegistryContext['emitLate'];
  private readonly wake: FileRegistryContext['wake'];

  constructor(ctx: FileRegistryContext) {
    this.wake = ctx.wake;
    this.format = ctx.format;
    this.emitLate = ctx.emitLate;
    this.options = ctx.options;
    this.counters = ctx.counters;
    this.clock = ctx.clock;
    this.metrics = ctx.metrics;
    this.onError = ctx.onError;
    this.committed = ctx.committed;
  }

  /**
   * Track a new identity found at `path`. With context `finish` it is read
   * to its end and dropped, and never owns its path.
   */
  track(path: string, st: BigIntStats, context: TrackContext): TailedFile {
    const dev = st.dev.toString();
    const ino = st.ino.toString();
    const id = fileSourceId(dev, ino);
    // The stage's late records reach this identity while it is tracked.
    const ref: { file?: TailedFile } = {};
    const format = this.format?.({
      path,
      id,
      counters: this.counters,
      emit: (lines) => {
        const f = ref.file;
        if (f !== undefined && this.byId.get(id) === f) {
          this.emitLate?.(f, lines);
          this.wake?.(f);
        }
      },
      isBehind: () => {
        const f = ref.file;
        return (
          f !== undefined &&
          (f.busy || f.backlog || (!f.gzip && f.size > f.splitter.fedOffset))
        );
      },
    });
    const f = new TailedFile(
      id,
      dev,
      ino,
      path,
      fileLabels(path, this.options),
      context,
      this.options,
      this.counters,
      this.options.multiline,
      this.clock.monotonicNow(),
      format,
    );
    ref.file = f;
    f.onDirty = this.wake;
    f.size = Number(st.size);
    f.mtimeMs = Number(st.mtimeMs);
    this.byId.set(id, f);
    this.finished.delete(id);
    this.errorsByPath.delete(path);
    if (context !== 'finish') this.byPath.set(path, id);
    else {
      f.state = 'rotated';
      f.finishOnly = true;
      f.drainSince = this.clock.monotonicNow();
    }
    this.metrics.filesActive.set(this.byId.size);
    this.wake?.(f);
    return f;
  }

  /** Stop tracking `f` (finished) and remember its last status. */
  retire(f: TailedFile): void {
    f.format?.stage.close?.();
    this.byId.delete(f.id);
    if (this.byPath.get(f.path) === f.id) this.byPath.delete(f.path);
    if (this.finished.size >= MAX_FINISHED_REMEMBERED) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
    const status: FileStatus = {
      id: f.id,
      path: f.path,
      state: 'completed',
      open: false,
      readOffset: f.splitter.fedOffset,
      committedOffset: this.committed(f.id)?.offset ?? 0,
      size: f.size,
      lagBytes: 0,
      linesRead: f.linesRead,
      bytesRead: f.bytesRead,
      lastReadAtMs: f.lastReadAtMs,
      ...(f.error === undefined
        ? {}
        : { error: { code: f.error.code, message: f.error.message } }),
    };
    this.finished.set(f.id, { status, head: headKey(f) });
    this.metrics.filesActive.set(this.byId.size);
  }

  /**
   * Where a recently finished identity was read up to, if remembered and
   * it had the head `head`: an inode is reused (by the `.gz` of another
   * generation), and that one's offset says nothing about this content.
   */
  finishedReadOffset(
    id: string,
    head: { readonly fingerprint: string; readonly fingerprintBytes: number },
  ): number | undefined {
    const done = this.finished.get(id);
    return done?.head === headKey(head) ? done.status.readOffset : undefined;
  }

  /** A rotated-away or deleted file is open with bytes not committed yet. */
  atRisk(): boolean {
    for (const f of this.byId.values()) {
      if (f.state === 'active' || f.handle === undefined) continue;
      if (f.size > (this.committed(f.id)?.offset ?? 0)) return true;
    }
    return false;
  }

  /** Tracked identities, path errors, then recently finished identities. */
  status(): FileStatus[] {
    const out: FileStatus[] = [];
    for (const f of this.byId.values()) {
      const committed = this.committed(f.id);
      out.push({
        id: f.id,
        path: f.path,
        state: f.error !== undefined ? 'error' : f.state,
        open: f.handle !== undefined,
        readOffset: f.splitter.fedOffset,
        committedOffset: committed?.offset ?? 0,
        size: f.size,
        lagBytes: Math.max(0, f.size - f.splitter.fedOffset),
        linesRead: f.linesRead,
        bytesRead: f.bytesRead,
        lastReadAtMs: f.lastReadAtMs,
        ...(f.error === undefined
          ? {}
          : { error: { code: f.error.code, message: f.error.message } }),
      });
    }
    for (const [path, error] of this.errorsByPath) {
      if (this.byPath.has(path)) continue;
      out.push({
        id: '',
        path,
        state: 'error',
        open: false,
        readOffset: 0,
        committedOffset: 0,
        size: 0,
        lagBytes: 0,
        linesRead: 0,
        bytesRead: 0,
        lastReadAtMs: 0,
        error: { code: error.code, message: error.message },
      });
    }
    for (const { status } of this.finished.values()) out.push(status);
    return out;
  }

  /** Record a read error on `f`, retried after a rescan interval; only the first goes to `onError`. */
  fileError(f: TailedFile, error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    const lcCode =
      code === 'EACCES' || code === 'EPERM'
        ? 'LC_ERR_FILE_PERMISSION'
        : 'LC_ERR_FILE_READ';
    const first = f.error === undefined;
    f.error = new LcError({
      code: lcCode,
      message: `cannot read ${f.path}: ${(error as Error).message}`,
      cause: error,
      details: { path: f.path, offset: f.splitter.fedOffset },
    });
    f.retryAt = this.clock.monotonicNow() + this.options.rescanIntervalMs;
    this.metrics.errors.inc({
      kind: lcCode === 'LC_ERR_FILE_PERMISSION' ? 'permission' : 'read',
    });
    if (first) this.onError(f.error);
  }

  /** Record a discovery error on a path; only the first per path goes to `onError`. */
  pathError(path: string, error: NodeJS.ErrnoException): void {
    const permission = error.code === 'EACCES' || error.code === 'EPERM';
    const first = !this.errorsByPath.has(path);
    const lcError = new LcError({
      code: permission ? 'LC_ERR_FILE_PERMISSION' : 'LC_ERR_FILE_READ',
      message: `cannot read ${path}: ${error.message}`,
      cause: error,
      details: { path },
    });
    this.errorsByPath.set(path, lcError);
    if (first) {
      this.metrics.errors.inc({
        kind: permission ? 'permission' : 'discovery',
      });
      this.onError(lcError);
    }
  }
}

/** A head as one comparable key. */
function headKey(h: {
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
}): string {
  return `${h.fingerprintBytes}:${h.fingerprint}`;
}
