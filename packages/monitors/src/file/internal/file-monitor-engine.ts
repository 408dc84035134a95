import { watch } from 'node:fs';
import type { BigIntStats, FSWatcher } from 'node:fs';
import { open, readdir, readlink, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type {
  Clock,
  FilePosition,
  Intake,
  LogRecord,
  Logger,
  TimerHandle,
} from '@lc/core';
import { LcError, silentLogger, systemClock } from '@lc/core';
import {
  computeFingerprint,
  fileSourceId,
  findRotatedFile,
} from '@lc/positions';
import type {
  FileMonitorOptions,
  ResolvedFileMonitorOptions,
} from '../file-monitor-options.js';
import { resolveFileMonitorOptions } from '../file-monitor-options.js';
import type { FileStatus } from '../file-status.js';
import { discoverFiles, isUnder } from './discovery.js';
import type { FileMetrics } from './file-metrics.js';
import { createFileMetrics } from './file-metrics.js';
import { FilePositions } from './file-positions.js';
import { FileResume, FINGERPRINT_BYTES } from './file-resume.js';
import type { CompiledGlob } from './glob.js';
import { compileGlob, matchesAny } from './glob.js';
import type { SplitLine, SplitterCounters } from './line-splitter.js';
import { readGzipFile } from './gzip-reader.js';
import { RecordEmitter } from './record-emitter.js';
import type { TrackContext } from './tailed-file.js';
import { fileLabels, TAIL_BYTES, TailedFile } from './tailed-file.js';

/** Files that grew this recently are polled every `pollIntervalMs`. */
const HOT_WINDOW_MS = 5000;
/** fs.watch is used on at most this many directories; the rest are polled. */
const MAX_WATCHED_DIRECTORIES = 4096;
/** Bound on finished identities remembered to avoid re-reading. */
const MAX_FINISHED_REMEMBERED = 10_000;
/** Files serviced concurrently in one pass (each has its own read buffer). */
const READ_CONCURRENCY = 8;

interface WatchedDir {
  readonly key: string;
  readonly watcher: FSWatcher;
}

/** The file monitor's implementation; see `createFileMonitor`. */
export class FileMonitorEngine {
  private readonly o: ResolvedFileMonitorOptions;
  private readonly intake: Intake;
  private readonly positions: FilePositions;
  private readonly emitter: RecordEmitter;
  private readonly resume: FileResume;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onError: (error: unknown) => void;
  private readonly metrics: FileMetrics;
  private readonly includes: CompiledGlob[];
  private readonly excludes: CompiledGlob[];
  private selfPaths: string[];
  private readonly counters: SplitterCounters = {
    truncatedLines: 0,
    skippedLines: 0,
    invalidChars: 0,
  };
  private readonly byId = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, string>();
  private readonly finished = new Map<string, FileStatus>();
  private readonly watchers = new Map<string, WatchedDir>();
  private readonly pendingPaths = new Set<string>();
  private readonly errorsByPath = new Map<string, LcError>();
  private readonly bufs: Buffer[];
  private openCount = 0;
  /** Open files, least recently grown first (Map insertion order). */
  private readonly openLru = new Map<string, TailedFile>();
  private started = false;
  /** Set once `start()` finished its own pass; no tick runs before. */
  private ready = false;
  private stopped = false;
  private timer: TimerHandle | undefined;
  private timerDueAt = Infinity;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  private rescanRequested = false;
  private nextRescanAt = 0;
  private lastLagUpdateAt = 0;
  private roundRobin = 0;
  /** Paths that had a saved identity at start: a new identity there is a rotation. */
  private readonly savedPaths = new Set<string>();

  constructor(options: FileMonitorOptions) {
    this.o = resolveFileMonitorOptions(options);
    this.intake = options.intake;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.onError =
      options.onError ??
      ((error) => this.logger.error({ err: error }, 'file monitor error'));
    this.metrics = createFileMetrics(options.registry);
    this.positions = new FilePositions(
      options.positions,
      this.clock,
      this.onError,
    );
    this.emitter = new RecordEmitter(this.intake, this.clock, this.metrics);
    this.resume = new FileResume({
      options: this.o,
      positions: this.positions,
      emitter: this.emitter,
      metrics: this.metrics,
      logger: this.logger,
      savedPaths: this.savedPaths,
      isTracked: (id) => this.byId.has(id),
      trackCopy: (path, st) => this.track(path, st, 'finish'),
    });
    this.includes = this.o.include.flatMap(compileGlob);
    this.excludes = this.o.exclude.flatMap(compileGlob);
    this.selfPaths = [...this.o.selfPaths];
    this.bufs = Array.from({ length: READ_CONCURRENCY }, () =>
      Buffer.allocUnsafe(this.o.readBufferBytes),
    );
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.selfPaths.push(...(await ownOutputFiles()));
    for (const p of this.positions.list()) this.savedPaths.add(p.path);
    const savedAtStart = this.positions.list();
    await this.rescan('startup');
    await this.recoverRotatedWhileDown();
    // Decide every start offset now (this also finds copies of files
    // copytruncated while down), so the sweep below knows every identity.
    for (const f of [...this.byId.values()]) {
      if (this.stopped) return;
      if (f.initialized || f.gzip) continue;
      try {
        if (f.handle === undefined && !(await this.openFile(f))) continue;
        await this.resume.initialize(f, this.bufs[0] as Buffer);
      } catch (error) {
        this.fileError(f, error);
      }
    }
    await this.sweepUnseenGenerations(savedAtStart);
    this.ready = true;
    this.requestTick(0);
  }

  async flush(): Promise<void> {
    if (!this.ready || this.stopped) return;
    for (let i = 0; i < 1000; i++) {
      for (const f of this.byId.values()) f.dirty = true;
      await this.runTick();
      let more = false;
      for (const f of this.byId.values()) if (f.backlog) more = true;
      if (!more) break;
    }
    const out: LogRecord[] = [];
    for (const f of this.byId.values()) {
      if (f.joiner?.pending !== true) continue;
      const joined: SplitLine[] = [];
      f.joiner.flush(joined);
      this.emitter.toRecords(f, joined, out);
    }
    if (out.length > 0) this.intake.dispatchMany(out);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers.values()) w.watcher.close();
    this.watchers.clear();
    await this.ticking;
    for (const f of this.byId.values()) await this.closeHandle(f);
    this.metrics.filesOpen.set(0);
    this.metrics.directoriesWatched.set(0);
    this.metrics.filesActive.set(0);
  }

  status(): FileStatus[] {
    const out: FileStatus[] = [];
    for (const f of this.byId.values()) {
      const committed = this.positions.committed(f.id);
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
    for (const s of this.finished.values()) out.push(s);
    return out;
  }

  // ---- scheduling ------------------------------------------------------

  private requestTick(delayMs: number): void {
    if (this.stopped || !this.ready) return;
    if (this.ticking !== undefined) {
      if (delayMs === 0) this.tickAgain = true;
      return;
    }
    const due = this.clock.monotonicNow() + delayMs;
    if (this.timer !== undefined && this.timerDueAt <= due) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDueAt = due;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDueAt = Infinity;
      this.runTick().catch(this.onError);
    }, delayMs);
    this.timer.unref();
  }

  private runTick(): Promise<void> {
    if (this.ticking !== undefined) {
      this.tickAgain = true;
      return this.ticking;
    }
    const run = async (): Promise<void> => {
      let more = false;
      try {
        do {
          this.tickAgain = false;
          more = await this.tick();
        } while (this.tickAgain && !this.stopped);
      } catch (error) {
        this.onError(error);
      } finally {
        this.ticking = undefined;
      }
      if (!this.stopped) {
        const untilRescan = Math.max(
          0,
          this.nextRescanAt - this.clock.monotonicNow(),
        );
        this.requestTick(
          more ? 0 : Math.min(this.o.pollIntervalMs, untilRescan),
        );
      }
    };
    this.ticking = run();
    return this.ticking;
  }

  /** One pass over the files; returns true when work is left (budgets hit). */
  private async tick(): Promise<boolean> {
    if (this.stopped) return false;
    const now = this.clock.monotonicNow();
    if (this.rescanRequested || now >= this.nextRescanAt)
      await this.rescan('discovered');
    if (this.pendingPaths.size > 0) await this.trackPendingPaths();
    let budget = this.o.maxBytesPerTick;
    let more = false;
    const files = [...this.byId.values()];
    const n = files.length;
    const startIdx = n === 0 ? 0 : this.roundRobin++ % n;
    const todo: TailedFile[] = [];
    for (let k = 0; k < n; k++) {
      const f = files[(startIdx + k) % n] as TailedFile;
      if (this.needsService(f, now)) todo.push(f);
    }
    // Several files at once: each await is a thread-pool round trip, and a
    // loaded machine makes a strictly sequential pass slow for 100+ busy files.
    let next = 0;
    const worker = async (buf: Buffer): Promise<void> => {
      while (next < todo.length && !this.stopped && !this.emitter.blocked) {
        if (budget <= 0) {
          more = true;
          return;
        }
        const f = todo[next++] as TailedFile;
        if (!this.byId.has(f.id)) continue;
        f.busy = true;
        try {
          budget -= await this.service(f, budget, buf);
        } catch (error) {
          this.fileError(f, error);
        } finally {
          f.busy = false;
        }
        if (f.backlog) more = true;
      }
    };
    await Promise.all(
      this.bufs
        .slice(0, Math.max(1, Math.min(this.bufs.length, todo.length)))
        .map(worker),
    );
    if (next < todo.length) more = true;
    if (this.emitter.blocked) {
      await this.waitWritable();
      if (this.stopped) return false;
    }
    await this.housekeeping();
    this.publishCounters();
    return more;
  }

  private readonly abort = new AbortController();

  private async waitWritable(): Promise<void> {
    try {
      await this.intake.whenWritable({ signal: this.abort.signal });
      this.emitter.blocked = false;
    } catch (error) {
      if (LcError.isInstance(error, 'LC_ERR_ABORTED') && this.stopped) return;
      if (LcError.isInstance(error, 'LC_ERR_SHUT_DOWN')) {
        await this.shutdown();
        return;
      }
      throw error;
    }
  }

  private needsService(f: TailedFile, now: number): boolean {
    if (f.error !== undefined && now < f.retryAt) return false;
    if (f.dirty || f.backlog || !f.initialized || f.state !== 'active')
      return true;
    return f.handle !== undefined && now - f.lastGrowthAt < HOT_WINDOW_MS;
  }

  // ---- discovery -------------------------------------------------------

  private async rescan(context: TrackContext): Promise<void> {
    this.rescanRequested = false;
    this.nextRescanAt = this.clock.monotonicNow() + this.o.rescanIntervalMs;
    const result = await discoverFiles({
      includes: this.includes,
      excludes: this.excludes,
      selfPaths: this.selfPaths,
      maxDepth: this.o.maxDepth,
      includeHidden: this.o.includeHidden,
      followSymlinks: this.o.followSymlinks,
      maxFiles: this.o.maxFiles,
      skipStat: (path, dir) =>
        context !== 'startup' &&
        this.byPath.has(path) &&
        this.watchers.has(dir),
    });
    if (this.stopped) return;
    this.syncWatchers(result.directories);
    for (const { path, error } of result.errors) this.pathError(path, error);
    if (result.truncated) {
      this.metrics.errors.inc({ kind: 'max-files' });
      this.logger.warn(
        { maxFiles: this.o.maxFiles },
        'file monitor: maxFiles reached, some files are not read',
      );
    }
    for (const [path, st] of result.files) {
      if (st !== undefined) this.consider(path, st, context);
    }
    for (const [path, id] of this.byPath) {
      if (!result.files.has(path)) {
        const f = this.byId.get(id);
        if (f !== undefined) f.dirty = true;
      }
    }
  }

  /** A path matched: track its identity, or note that a known one changed. */
  private consider(path: string, st: BigIntStats, context: TrackContext): void {
    const id = fileSourceId(st.dev.toString(), st.ino.toString());
    const atPath = this.byPath.get(path);
    if (atPath !== undefined) {
      const f = this.byId.get(atPath);
      if (f === undefined) {
        this.byPath.delete(path);
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
    const known = this.byId.get(id);
    if (known !== undefined) {
      // The identity moved to another matched path (rename to a matched name, or a hard link).
      if (known.state !== 'active' || !this.byPath.has(known.path)) {
        this.byPath.set(path, id);
        known.path = path;
        known.state = 'active';
      }
      known.dirty = true;
      return;
    }
    if (this.byId.size >= this.o.maxFiles) return;
    this.track(path, st, context);
  }

  private track(
    path: string,
    st: BigIntStats,
    context: TrackContext,
  ): TailedFile {
    const dev = st.dev.toString();
    const ino = st.ino.toString();
    const id = fileSourceId(dev, ino);
    const f = new TailedFile(
      id,
      dev,
      ino,
      path,
      fileLabels(path, this.o),
      context,
      this.o,
      this.counters,
      this.o.multiline,
      this.clock.monotonicNow(),
    );
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
    return f;
  }

  private async trackPendingPaths(): Promise<void> {
    const paths = [...this.pendingPaths];
    this.pendingPaths.clear();
    for (const path of paths) {
      if (!this.o.includeHidden && basename(path).startsWith('.')) continue;
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

  /** Rotated while the monitor was down: finish saved identities found next to their old path. */
  private async recoverRotatedWhileDown(): Promise<void> {
    for (const saved of this.positions.list()) {
      if (this.byId.has(saved.id)) continue;
      const wanted =
        matchesAny(this.includes, saved.path) ||
        (saved.status === 'rotated' &&
          this.includes.some((g) => isUnder(dirname(saved.path), [g.base])));
      if (!wanted) continue;
      const found = await findRotatedFile(saved, dirname(saved.path));
      if (found === undefined) continue;
      let st: BigIntStats;
      try {
        st = await stat(found, { bigint: true });
      } catch {
        continue;
      }
      if (Number(st.size) <= saved.offset || this.byId.has(saved.id)) continue;
      this.track(found, st, 'finish');
      this.metrics.rotations.inc({ kind: 'rotated-while-down' });
      this.logger.info(
        { path: found, savedPath: saved.path, offset: saved.offset },
        'file monitor: finishing a file rotated while down',
      );
    }
  }

  /**
   * Generations rotated away entirely while the monitor was down (created
   * and renamed, or copied by copytruncate, after the last commit) were
   * never seen, so they have no position. Read them from 0: siblings named
   * after a live path (`app.log.1`, `app.log-2024...`), not matched by the
   * include globs, unknown, and modified after that path's last commit.
   */
  private async sweepUnseenGenerations(
    saved: readonly FilePosition[],
  ): Promise<void> {
    const since = new Map<string, number>();
    const active = new Map<string, number>();
    for (const p of saved) {
      if (!matchesAny(this.includes, p.path)) continue;
      since.set(p.path, Math.max(since.get(p.path) ?? 0, p.updatedAtMs));
      if (p.status === 'active')
        active.set(p.path, Math.max(active.get(p.path) ?? 0, p.updatedAtMs));
    }
    for (const [live, sinceAny] of since) {
      await this.sweepSiblings(live, active.get(live) ?? sinceAny, undefined);
    }
  }

  /**
   * Finish, from 0, unknown siblings of `live` (rotation names) modified
   * after `sinceMs`, except copies whose head is `skipHead` (content already
   * read through the live identity).
   */
  private async sweepSiblings(
    live: string,
    sinceMs: number,
    skipHead: { fingerprint: string; fingerprintBytes: number } | undefined,
  ): Promise<void> {
    {
      const dir = dirname(live);
      const base = basename(live);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names) {
        if (
          !(name.startsWith(`${base}.`) || name.startsWith(`${base}-`)) ||
          name.endsWith('.gz')
        )
          continue;
        const path = join(dir, name);
        if (matchesAny(this.includes, path) || isUnder(path, this.selfPaths))
          continue;
        let st: BigIntStats;
        try {
          st = await stat(path, { bigint: true });
        } catch {
          continue;
        }
        if (!st.isFile() || Number(st.mtimeMs) <= sinceMs) continue;
        const id = fileSourceId(st.dev.toString(), st.ino.toString());
        if (this.byId.has(id)) continue;
        const known = this.positions.committed(id);
        if (known !== undefined && (await sameHead(path, known))) continue;
        if (
          skipHead !== undefined &&
          skipHead.fingerprintBytes > 0 &&
          (await sameHead(path, skipHead))
        )
          continue;
        this.track(path, st, 'finish');
        this.metrics.rotations.inc({ kind: 'rotated-while-down' });
        this.logger.info(
          { path, livePath: live },
          'file monitor: reading a generation rotated away while down',
        );
      }
    }
  }

  private syncWatchers(directories: Map<string, string>): void {
    if (!this.o.watch) return;
    for (const [dir, w] of this.watchers) {
      if (directories.get(dir) !== w.key) {
        w.watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const [dir, key] of directories) {
      if (
        this.watchers.has(dir) ||
        this.watchers.size >= MAX_WATCHED_DIRECTORIES
      )
        continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, filename) =>
          this.onWatchEvent(dir, filename),
        );
        watcher.on('error', () => {
          watcher.close();
          if (this.watchers.get(dir)?.watcher === watcher)
            this.watchers.delete(dir);
          this.rescanRequested = true;
          this.requestTick(0);
        });
        this.watchers.set(dir, { key, watcher });
      } catch {
        // Directory vanished or inotify limit reached: the rescan covers it.
      }
    }
    this.metrics.directoriesWatched.set(this.watchers.size);
  }

  private onWatchEvent(dir: string, filename: string | Buffer | null): void {
    if (this.stopped) return;
    if (filename === null) {
      this.rescanRequested = true;
    } else {
      const path = join(dir, filename.toString());
      const id = this.byPath.get(path);
      const f = id === undefined ? undefined : this.byId.get(id);
      if (f !== undefined) f.dirty = true;
      else this.pendingPaths.add(path);
    }
    this.requestTick(0);
  }

  // ---- reading ---------------------------------------------------------

  /** Check and read one file; returns the bytes read. */
  private async service(
    f: TailedFile,
    tickBudget: number,
    buf: Buffer,
  ): Promise<number> {
    f.dirty = false;
    if (f.state === 'active' && !f.finishOnly) {
      const proceed = await this.checkPath(f);
      if (!proceed) return 0;
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
      if (!(await this.openFile(f))) return 0;
    }
    if (!f.initialized) await this.resume.initialize(f, buf);
    if (f.gzip) return this.readGzip(f);
    let budget = Math.min(this.o.maxBytesPerFilePerTick, tickBudget);
    let total = 0;
    f.backlog = false;
    while (budget > 0 && !this.stopped) {
      const lines: SplitLine[] = [];
      const r = await f.readChunk(buf, budget, lines);
      if (r.kind === 'changed') {
        await this.resume.handleRewrite(
          f,
          f.size < f.splitter.fedOffset ? 'truncate' : 'copytruncate',
        );
        continue;
      }
      if (r.kind === 'eof') break;
      total += r.bytes;
      budget -= r.bytes;
      f.lastGrowthAt = this.clock.monotonicNow();
      this.openLru.delete(f.id);
      this.openLru.set(f.id, f);
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
    this.metrics.bytesRead.inc(total);
    return total;
  }

  /** Stat the path of an active file: detect deletion, replacement, truncation. */
  private async checkPath(f: TailedFile): Promise<boolean> {
    let st: BigIntStats | undefined;
    try {
      st = await stat(f.path, { bigint: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    if (
      st !== undefined &&
      fileSourceId(st.dev.toString(), st.ino.toString()) === f.id
    ) {
      f.verifiedAtMs = this.clock.now();
      f.size = Number(st.size);
      f.mtimeMs = Number(st.mtimeMs);
      if (
        f.initialized &&
        !f.gzip &&
        f.size < f.splitter.fedOffset &&
        f.handle !== undefined
      ) {
        await this.resume.handleRewrite(f, 'truncate');
      }
      return true;
    }
    // The identity left its path: renamed away or deleted, maybe replaced.
    if (this.byPath.get(f.path) === f.id) this.byPath.delete(f.path);
    const livePath = f.path;
    await this.leavePath(f);
    if (st !== undefined && f.verifiedAtMs > 0) {
      // Generations created and rotated away between two checks were never seen.
      await this.sweepSiblings(livePath, f.verifiedAtMs, f);
    }
    if (st !== undefined && st.isFile()) this.consider(f.path, st, 'rotated');
    return this.byId.has(f.id);
  }

  /** Start draining an identity that is no longer at its path. */
  private async leavePath(f: TailedFile): Promise<void> {
    if (f.handle === undefined && f.initialized) {
      // Closed while idle: look for it next to its old path (rename rotation).
      const found = await findRotatedFile(
        this.positions.positionOf(f, 'rotated'),
        dirname(f.path),
      );
      if (found !== undefined) {
        f.path = found;
        if (!(await this.openFile(f))) return;
      }
    }
    if (f.handle === undefined) {
      this.metrics.rotations.inc({ kind: 'delete' });
      await this.finish(f, 'deleted');
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

  private async openFile(f: TailedFile): Promise<boolean> {
    if (this.openCount >= this.o.maxOpenFiles && !this.evictIdle()) {
      f.dirty = true; // retried on the next pass
      return false;
    }
    // Reserve the slot before awaiting: passes run several opens at once.
    this.openCount++;
    let handle: FileHandle | undefined;
    try {
      handle = await open(f.path, 'r');
      const st = await handle.stat({ bigint: true });
      if (fileSourceId(st.dev.toString(), st.ino.toString()) !== f.id) {
        // The path changed identity between stat and open; the next check sees it.
        await handle.close();
        this.openCount--;
        f.dirty = true;
        return false;
      }
      f.handle = handle;
      this.openLru.set(f.id, f);
      f.size = Number(st.size);
      f.mtimeMs = Number(st.mtimeMs);
      f.error = undefined;
      this.metrics.filesOpen.set(this.openCount);
      return true;
    } catch (error) {
      this.openCount--;
      if (handle !== undefined) handle.close().catch(this.onError);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        f.dirty = true;
        return false;
      }
      this.fileError(f, error);
      return false;
    }
  }

  /** Close the least recently grown open, caught-up, live file. */
  private evictIdle(): boolean {
    let victim: TailedFile | undefined;
    for (const f of this.openLru.values()) {
      if (f.handle === undefined || f.busy) continue;
      if (f.state !== 'active' || f.finishOnly || f.backlog) continue;
      if (f.size > f.splitter.fedOffset) continue;
      victim = f;
      break;
    }
    if (victim === undefined) return false;
    const handle = victim.handle;
    victim.handle = undefined;
    this.openLru.delete(victim.id);
    this.openCount--;
    handle?.close().catch(this.onError);
    return true;
  }

  private async closeHandle(f: TailedFile): Promise<void> {
    const handle = f.handle;
    if (handle === undefined) return;
    f.handle = undefined;
    this.openLru.delete(f.id);
    this.openCount--;
    this.metrics.filesOpen.set(this.openCount);
    try {
      await handle.close();
    } catch (error) {
      this.onError(error);
    }
  }

  private async readGzip(f: TailedFile): Promise<number> {
    await this.closeHandle(f);
    const before = f.bytesRead;
    await readGzipFile(f.path, f.splitter.fedOffset, async (chunk) => {
      const lines: SplitLine[] = [];
      f.feed(chunk, lines);
      this.emitter.emit(f, lines);
      if (this.emitter.blocked) await this.waitWritable();
      return !this.stopped;
    });
    if (this.stopped) return 0;
    const tail: SplitLine[] = [];
    f.splitter.flushPartial(tail);
    this.emitter.emit(f, tail);
    f.size = f.splitter.fedOffset;
    await this.finish(f, 'completed');
    return f.bytesRead - before;
  }

  // ---- rotation --------------------------------------------------------

  /** Drop an identity: flush what it holds, close it, remember it. */
  private async finish(
    f: TailedFile,
    status: 'rotated' | 'deleted' | 'completed',
  ): Promise<void> {
    const lines: SplitLine[] = [];
    if (f.splitter.partialBytes > 0) {
      f.splitter.flushPartial(lines);
      this.metrics.partialLineFlushes.inc();
    }
    f.joiner?.flush(lines);
    if (lines.length > 0) this.emitter.emitRaw(f, lines);
    if (status === 'deleted' && f.size > f.splitter.fedOffset) {
      this.metrics.errors.inc({ kind: 'deleted-unread' });
      this.logger.warn(
        { path: f.path, unreadBytes: f.size - f.splitter.fedOffset },
        'file monitor: deleted file closed after its grace with unread bytes',
      );
    }
    await this.closeHandle(f);
    this.positions.upsert(f, undefined, undefined, status);
    this.byId.delete(f.id);
    if (this.byPath.get(f.path) === f.id) this.byPath.delete(f.path);
    if (this.finished.size >= MAX_FINISHED_REMEMBERED) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
    this.finished.set(f.id, {
      id: f.id,
      path: f.path,
      state: 'completed',
      open: false,
      readOffset: f.splitter.fedOffset,
      committedOffset: this.positions.committed(f.id)?.offset ?? 0,
      size: f.size,
      lagBytes: 0,
      linesRead: f.linesRead,
      bytesRead: f.bytesRead,
      lastReadAtMs: f.lastReadAtMs,
    });
    this.metrics.filesActive.set(this.byId.size);
  }

  private async housekeeping(): Promise<void> {
    const now = this.clock.monotonicNow();
    for (const f of [...this.byId.values()]) {
      if (f.state !== 'active' || f.finishOnly) {
        if (f.backlog || f.handle === undefined) {
          if (f.handle === undefined && f.initialized)
            await this.finish(
              f,
              f.state === 'deleted' ? 'deleted' : 'completed',
            );
          continue;
        }
        const idle = now - f.lastGrowthAt;
        if (f.splitter.partialBytes > 0 && idle >= this.o.partialLineFlushMs) {
          const lines: SplitLine[] = [];
          f.splitter.flushPartial(lines);
          this.metrics.partialLineFlushes.inc();
          this.emitter.emitRaw(f, lines);
        }
        if (
          f.state === 'deleted' &&
          now - f.drainSince >= this.o.deletedFileGraceMs
        ) {
          await this.finish(f, 'deleted');
        } else if (
          f.state !== 'deleted' &&
          idle >= this.o.rotatedFileGraceMs &&
          f.size <= f.splitter.fedOffset
        ) {
          await this.finish(f, f.finishOnly ? 'completed' : 'rotated');
        }
        continue;
      }
      if (
        f.joiner?.pending === true &&
        now - f.joiner.lastAddedAt >= (this.o.multiline?.flushTimeoutMs ?? 0)
      ) {
        const lines: SplitLine[] = [];
        f.joiner.flush(lines);
        this.emitter.emitRaw(f, lines);
      }
      if (
        f.handle !== undefined &&
        now - f.lastGrowthAt >= this.o.idleCloseMs &&
        f.size <= f.splitter.fedOffset
      ) {
        await this.closeHandle(f);
      }
    }
    if (now - this.lastLagUpdateAt >= 1000) {
      this.lastLagUpdateAt = now;
      this.updateLagMetric();
    }
  }

  // ---- positions and errors --------------------------------------------

  private fileError(f: TailedFile, error: unknown): void {
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
    f.retryAt = this.clock.monotonicNow() + this.o.rescanIntervalMs;
    this.metrics.errors.inc({
      kind: lcCode === 'LC_ERR_FILE_PERMISSION' ? 'permission' : 'read',
    });
    if (first) this.onError(f.error);
  }

  private pathError(path: string, error: NodeJS.ErrnoException): void {
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

  private publishCounters(): void {
    const c = this.counters;
    if (c.truncatedLines > 0)
      this.metrics.longLines.inc({ action: 'truncated' }, c.truncatedLines);
    if (c.skippedLines > 0)
      this.metrics.longLines.inc({ action: 'skipped' }, c.skippedLines);
    if (c.invalidChars > 0) this.metrics.invalidChars.inc(c.invalidChars);
    c.truncatedLines = 0;
    c.skippedLines = 0;
    c.invalidChars = 0;
    this.metrics.filesOpen.set(this.openCount);
  }

  private updateLagMetric(): void {
    this.metrics.readLagBytes.reset();
    if (this.o.lagMetricTopN === 0) return;
    const lags: Array<[string, number]> = [];
    for (const f of this.byId.values()) {
      const lag = f.size - f.splitter.fedOffset;
      if (lag > 0) lags.push([f.path, lag]);
    }
    lags.sort((a, b) => b[1] - a[1]);
    for (const [path, lag] of lags.slice(0, this.o.lagMetricTopN))
      this.metrics.readLagBytes.set({ path }, lag);
  }
}

/** True when the file at `path` still has the head `saved` was taken from. */
async function sameHead(
  path: string,
  saved: { fingerprint: string; fingerprintBytes: number },
): Promise<boolean> {
  try {
    const h = await open(path, 'r');
    try {
      const head = await computeFingerprint(h, saved.fingerprintBytes);
      return (
        head.fingerprintBytes === saved.fingerprintBytes &&
        head.fingerprint === saved.fingerprint
      );
    } finally {
      await h.close();
    }
  } catch {
    return false;
  }
}

/** The process's own stdout/stderr when they are regular files (self-capture). */
async function ownOutputFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const fd of [1, 2]) {
    try {
      const target = await readlink(`/proc/self/fd/${fd}`);
      if (target.startsWith('/') && (await stat(target)).isFile())
        out.push(target);
    } catch {
      // not Linux, or not a file
    }
  }
  return out;
}
