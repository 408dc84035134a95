import type { BigIntStats } from 'node:fs';
import { readlink, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, Intake, LogRecord, Logger } from '@lc/core';
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
import type { FileMetrics } from './file-metrics.js';
import { createFileMetrics } from './file-metrics.js';
import { FilePositions } from './file-positions.js';
import { FileRegistry } from './file-registry.js';
import { FileResume, FINGERPRINT_BYTES } from './file-resume.js';
import { FileScanner } from './file-scanner.js';
import { compileGlob } from './glob.js';
import type { SplitLine, SplitterCounters } from './line-splitter.js';
import { readGzipFile } from './gzip-reader.js';
import { OpenFiles } from './open-files.js';
import { RecordEmitter } from './record-emitter.js';
import { SiblingSweep } from './sibling-sweep.js';
import type { TailedFile } from './tailed-file.js';
import { TAIL_BYTES } from './tailed-file.js';
import { TickScheduler } from './tick-scheduler.js';

/** Files that grew this recently are polled every `pollIntervalMs`. */
const HOT_WINDOW_MS = 5000;
/** Files serviced concurrently in one pass (each has its own read buffer). */
const READ_CONCURRENCY = 8;

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
  private readonly selfPaths: string[];
  private readonly counters: SplitterCounters = {
    truncatedLines: 0,
    skippedLines: 0,
    invalidChars: 0,
  };
  private readonly files: FileRegistry;
  private readonly openFiles: OpenFiles;
  private readonly scanner: FileScanner;
  private readonly sweep: SiblingSweep;
  private readonly scheduler: TickScheduler;
  private readonly bufs: Buffer[];
  private started = false;
  /** Set once `start()` finished its own pass; no tick runs before. */
  private ready = false;
  private stopped = false;
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
    const includes = this.o.include.flatMap(compileGlob);
    const excludes = this.o.exclude.flatMap(compileGlob);
    this.selfPaths = [...this.o.selfPaths];
    this.files = new FileRegistry({
      options: this.o,
      counters: this.counters,
      clock: this.clock,
      metrics: this.metrics,
      onError: this.onError,
      committed: (id) => this.positions.committed(id),
    });
    this.openFiles = new OpenFiles({
      maxOpenFiles: this.o.maxOpenFiles,
      metrics: this.metrics,
      onError: this.onError,
      fileError: (f, error) => this.files.fileError(f, error),
    });
    this.resume = new FileResume({
      options: this.o,
      positions: this.positions,
      emitter: this.emitter,
      metrics: this.metrics,
      logger: this.logger,
      savedPaths: this.savedPaths,
      isTracked: (id) => this.files.byId.has(id),
      trackCopy: (path, st) => this.files.track(path, st, 'finish'),
    });
    this.scheduler = new TickScheduler({
      clock: this.clock,
      onError: this.onError,
      pass: () => this.tick(),
      canSchedule: () => !this.stopped && this.ready,
      isStopped: () => this.stopped,
      idleDelayMs: () =>
        Math.min(
          this.o.pollIntervalMs,
          Math.max(0, this.scanner.nextRescanAt - this.clock.monotonicNow()),
        ),
    });
    this.scanner = new FileScanner({
      options: this.o,
      includes,
      excludes,
      selfPaths: this.selfPaths,
      registry: this.files,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      isStopped: () => this.stopped,
      requestTick: (delayMs) => this.scheduler.request(delayMs),
    });
    this.sweep = new SiblingSweep({
      includes,
      selfPaths: this.selfPaths,
      registry: this.files,
      positions: this.positions,
      metrics: this.metrics,
      logger: this.logger,
    });
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
    await this.scanner.rescan('startup');
    await this.sweep.recoverRotatedWhileDown();
    // Decide every start offset now (this also finds copies of files
    // copytruncated while down), so the sweep below knows every identity.
    for (const f of [...this.files.byId.values()]) {
      if (this.stopped) return;
      if (f.initialized || f.gzip) continue;
      try {
        if (f.handle === undefined && !(await this.openFiles.open(f))) continue;
        await this.resume.initialize(f, this.bufs[0] as Buffer);
      } catch (error) {
        this.files.fileError(f, error);
      }
    }
    await this.sweep.sweepUnseenGenerations(savedAtStart);
    this.ready = true;
    this.scheduler.request(0);
  }

  async flush(): Promise<void> {
    if (!this.ready || this.stopped) return;
    for (let i = 0; i < 1000; i++) {
      for (const f of this.files.byId.values()) f.dirty = true;
      await this.scheduler.run();
      let more = false;
      for (const f of this.files.byId.values()) if (f.backlog) more = true;
      if (!more) break;
    }
    const out: LogRecord[] = [];
    for (const f of this.files.byId.values()) {
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
    this.scheduler.cancel();
    this.scanner.closeWatchers();
    await this.scheduler.running;
    for (const f of this.files.byId.values()) await this.openFiles.close(f);
    this.metrics.filesOpen.set(0);
    this.metrics.directoriesWatched.set(0);
    this.metrics.filesActive.set(0);
  }

  status(): FileStatus[] {
    return this.files.status();
  }

  // ---- the read pass ---------------------------------------------------

  /** One pass over the files; returns true when work is left (budgets hit). */
  private async tick(): Promise<boolean> {
    if (this.stopped) return false;
    const now = this.clock.monotonicNow();
    if (this.scanner.rescanDue(now)) await this.scanner.rescan('discovered');
    if (this.scanner.hasPendingPaths) await this.scanner.trackPendingPaths();
    let budget = this.o.maxBytesPerTick;
    let more = false;
    const files = [...this.files.byId.values()];
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
        if (!this.files.byId.has(f.id)) continue;
        f.busy = true;
        try {
          budget -= await this.service(f, budget, buf);
        } catch (error) {
          this.files.fileError(f, error);
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
      if (!(await this.openFiles.open(f))) return 0;
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
    if (this.files.byPath.get(f.path) === f.id)
      this.files.byPath.delete(f.path);
    const livePath = f.path;
    await this.leavePath(f);
    if (st !== undefined && f.verifiedAtMs > 0) {
      // Generations created and rotated away between two checks were never seen.
      await this.sweep.sweepSiblings(livePath, f.verifiedAtMs, f);
    }
    if (st !== undefined && st.isFile())
      this.scanner.consider(f.path, st, 'rotated');
    return this.files.byId.has(f.id);
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
        if (!(await this.openFiles.open(f))) return;
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

  private async readGzip(f: TailedFile): Promise<number> {
    await this.openFiles.close(f);
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
    await this.openFiles.close(f);
    this.positions.upsert(f, undefined, undefined, status);
    this.files.retire(f);
  }

  private async housekeeping(): Promise<void> {
    const now = this.clock.monotonicNow();
    for (const f of [...this.files.byId.values()]) {
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
        await this.openFiles.close(f);
      }
    }
    if (now - this.lastLagUpdateAt >= 1000) {
      this.lastLagUpdateAt = now;
      this.updateLagMetric();
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
    this.metrics.filesOpen.set(this.openFiles.count);
  }

  private updateLagMetric(): void {
    this.metrics.readLagBytes.reset();
    if (this.o.lagMetricTopN === 0) return;
    const lags: Array<[string, number]> = [];
    for (const f of this.files.byId.values()) {
      const lag = f.size - f.splitter.fedOffset;
      if (lag > 0) lags.push([f.path, lag]);
    }
    lags.sort((a, b) => b[1] - a[1]);
    for (const [path, lag] of lags.slice(0, this.o.lagMetricTopN))
      this.metrics.readLagBytes.set({ path }, lag);
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
