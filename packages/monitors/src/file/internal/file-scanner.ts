import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Clock, Logger } from '@lc/core';
import { fileSourceId } from '@lc/positions';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import { DirectoryWatchers } from './directory-watchers.js';
import type { DirectoryListings } from './discovery.js';
import { discoverFiles, isUnder } from './discovery.js';
import type { FileMetrics } from './file-metrics.js';
import type { FileRegistry } from './file-registry.js';
import type { CompiledGlob } from './glob.js';
import { matchesAny } from './glob.js';
import type { TrackContext } from './tailed-file.js';
import { WatchEventPaths } from './watch-event-paths.js';

/** What {@link FileScanner} needs from the monitor. */
export interface FileScannerContext {
  readonly options: ResolvedFileMonitorOptions;
  readonly includes: readonly CompiledGlob[];
  readonly excludes: readonly CompiledGlob[];
  /** Never read nor descended; the monitor may add to it before the first rescan. */
  readonly selfPaths: readonly string[];
  readonly registry: Pick<
    FileRegistry,
    'byId' | 'byPath' | 'track' | 'pathError'
  >;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<FileMetrics, 'errors' | 'directoriesWatched'>;
  readonly isStopped: () => boolean;
  /** True for a finished, unchanged compressed file (not tracked again). */
  readonly isDoneCompressed: (id: string, st: BigIntStats) => boolean;
  /** Ask for a pass in `delayMs`. */
  readonly requestTick: (delayMs: number) => void;
}

/**
 * Discovery: periodic rescans of the include globs, `fs.watch` events,
 * and what a matched path means (a new identity, a known one changed or
 * moved to another matched path).
 */
export class FileScanner {
  private readonly options: ResolvedFileMonitorOptions;
  private readonly includes: readonly CompiledGlob[];
  private readonly excludes: readonly CompiledGlob[];
  private readonly selfPaths: readonly string[];
  private readonly registry: FileScannerContext['registry'];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: FileScannerContext['metrics'];
  private readonly isStopped: () => boolean;
  private readonly isDoneCompressed: FileScannerContext['isDoneCompressed'];
  private readonly requestTick: (delayMs: number) => void;
  private readonly watchDelayMs: number;
  private readonly watchers: DirectoryWatchers;
  /**
   * Matched paths with rotated generations next to them, found by the
   * start-up scan (whether the path exists or not); see `DiscoveryResult`.
   */
  rotatedAtStart: ReadonlySet<string> = new Set();
  private readonly pendingPaths = new Set<string>();
  /** Paths of the files watch events name (one event per write). */
  private readonly eventPaths = new WatchEventPaths();
  /** Listings of unchanged watched directories, reused by rescans. */
  private readonly listings: DirectoryListings = new Map();
  /** Directories walked by the last rescan. */
  private walkedDirectories = 0;
  private rescanRequested = false;
  private nextRescanAtMs = 0;

  constructor(ctx: FileScannerContext) {
    this.options = ctx.options;
    this.includes = ctx.includes;
    this.excludes = ctx.excludes;
    this.selfPaths = ctx.selfPaths;
    this.registry = ctx.registry;
    this.clock = ctx.clock;
    this.logger = ctx.logger;
    this.metrics = ctx.metrics;
    this.isStopped = ctx.isStopped;
    this.isDoneCompressed = ctx.isDoneCompressed;
    this.requestTick = ctx.requestTick;
    this.watchDelayMs = ctx.options.watchDelayMs;
    this.watchers = new DirectoryWatchers({
      enabled: ctx.options.watch,
      metrics: ctx.metrics,
      onEvent: (dir, filename) => this.onWatchEvent(dir, filename),
      onWatcherError: () => {
        this.rescanRequested = true;
        this.requestTick(0);
      },
    });
  }

  /** Monotonic ms when the next periodic rescan is due. */
  get nextRescanAt(): number {
    return this.nextRescanAtMs;
  }

  /** True when a rescan was asked for or the periodic one is due at `now`. */
  rescanDue(now: number): boolean {
    return this.rescanRequested || now >= this.nextRescanAtMs;
  }

  /** True when watch events named paths not yet checked. */
  get hasPendingPaths(): boolean {
    return this.pendingPaths.size > 0;
  }

  /** Stop watching (shutdown). */
  closeWatchers(): void {
    this.watchers.closeAll();
    this.eventPaths.clear();
  }

  /** Walk the include globs: track new identities, mark changed ones dirty, sync the watchers. */
  async rescan(context: TrackContext): Promise<void> {
    this.rescanRequested = false;
    this.nextRescanAtMs =
      this.clock.monotonicNow() + this.options.rescanIntervalMs;
    const result = await discoverFiles({
      includes: this.includes,
      excludes: this.excludes,
      selfPaths: this.selfPaths,
      maxDepth: this.options.maxDepth,
      includeHidden: this.options.includeHidden,
      followSymlinks: this.options.followSymlinks,
      maxFiles: this.options.maxFiles,
      skipStat: (path, dir) =>
        context !== 'startup' &&
        this.registry.byPath.has(path) &&
        this.watchers.has(dir),
      // In a reused (watched) directory a skip depends on `byPath` only.
      skipStatToken: () => this.registry.byPath.version,
      collectRotated: context === 'startup',
      listings: this.listings,
      // Events report what changes in a watched directory; an unwatched
      // one (watch off, limits) is listed every time.
      reuse: (dir) => context !== 'startup' && this.watchers.has(dir),
    });
    if (context === 'startup') this.rotatedAtStart = result.rotatedPaths;
    if (this.isStopped()) return;
    for (const dir of this.listings.keys())
      if (!result.directories.has(dir)) this.listings.delete(dir);
    this.watchers.sync(result.directories);
    for (const { path, error } of result.errors)
      this.registry.pathError(path, error);
    if (result.truncated) {
      this.metrics.errors.inc({ kind: 'max-files' });
      this.logger.warn(
        { maxFiles: this.options.maxFiles },
        'file monitor: maxFiles reached, some files are not read',
      );
    }
    for (const [path, st] of result.files) {
      if (st !== undefined) this.consider(path, st, context);
    }
    // Every directory unchanged (the same ones as last time): no path
    // left; otherwise paths in reused directories are still there.
    const reused = result.reusedDirectories;
    const same =
      reused.size === result.directories.size &&
      this.walkedDirectories === reused.size;
    this.walkedDirectories = result.directories.size;
    if (same) return;
    for (const [path, id] of this.registry.byPath) {
      if (
        !result.files.has(path) &&
        (reused.size === 0 || !reused.has(dirname(path)))
      ) {
        const f = this.registry.byId.get(id);
        if (f !== undefined) f.dirty = true;
      }
    }
  }

  /** A path matched: track its identity, or note that a known one changed. */
  consider(path: string, st: BigIntStats, context: TrackContext): void {
    const id = fileSourceId(st.dev.toString(), st.ino.toString());
    const atPath = this.registry.byPath.get(path);
    if (atPath !== undefined) {
      const f = this.registry.byId.get(atPath);
      if (f === undefined) {
        this.registry.byPath.delete(path);
      } else {
        if (
          atPath !== id ||
          Number(st.size) !== f.splitter.fedOffset ||
          Number(st.mtimeMs) !== f.mtimeMs
        )
          f.dirty = true;
        if (atPath === id) return;
        return; // the check of `f` handles the replacement
      }
    }
    const known = this.registry.byId.get(id);
    if (known !== undefined) {
      // The identity moved to another matched path (rename to a matched name, or a hard link).
      if (known.state !== 'active' || !this.registry.byPath.has(known.path)) {
        this.registry.byPath.set(path, id);
        known.path = path;
        known.state = 'active';
      }
      known.dirty = true;
      return;
    }
    if (path.endsWith('.gz')) {
      if (!this.options.readCompressed || this.isDoneCompressed(id, st)) return;
    }
    if (this.registry.byId.size >= this.options.maxFiles) return;
    this.registry.track(path, st, context);
  }

  /** Check the paths watch events named that no tracked identity owns. */
  async trackPendingPaths(): Promise<void> {
    const paths = [...this.pendingPaths];
    this.pendingPaths.clear();
    for (const path of paths) {
      if (!this.options.includeHidden && basename(path).startsWith('.'))
        continue;
      if (isUnder(path, this.selfPaths) || matchesAny(this.excludes, path))
        continue;
      let st: BigIntStats;
      try {
        st = await stat(path, { bigint: true });
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (this.includes.some((g) => g.mayContain(path)))
          this.rescanRequested = true;
        continue;
      }
      if (st.isFile() && matchesAny(this.includes, path))
        this.consider(path, st, 'discovered');
    }
  }

  private onWatchEvent(dir: string, filename: string | Buffer | null): void {
    if (this.isStopped()) return;
    if (filename === null) {
      this.rescanRequested = true;
    } else {
      const path = this.eventPaths.pathOf(dir, filename.toString());
      const id = this.registry.byPath.get(path);
      const f = id === undefined ? undefined : this.registry.byId.get(id);
      if (f !== undefined) f.dirty = true;
      else this.pendingPaths.add(path);
    }
    this.requestTick(this.watchDelayMs);
  }
}
