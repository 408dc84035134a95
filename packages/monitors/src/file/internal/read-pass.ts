import type { Clock } from '@lc/core';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FileDrain } from './file-drain.js';
import type { FileMetrics } from './file-metrics.js';
import { publishSplitterCounters, updateReadLag } from './file-metrics.js';
import type { FileReader } from './file-reader.js';
import type { FileRegistry } from './file-registry.js';
import type { FileScanner } from './file-scanner.js';
import { FileWakeups } from './file-wakeups.js';
import type { SplitterCounters } from './line-splitter.js';
import type { OpenFiles } from './open-files.js';
import type { RecordEmitter } from './record-emitter.js';
import type { TailedFile } from './tailed-file.js';

/** Files that grew this recently are polled every `pollIntervalMs`. */
const HOT_WINDOW_MS = 5000;
/**
 * Passes while no file is hot, draining, dirty or holding a record for
 * its timeout run at most this often (idle checks come due in them):
 * 10,000 idle files walked 4 times a second was most of an idle agent.
 */
const QUIET_PASS_MS = 1000;
/** Files serviced concurrently in one pass (each has its own read buffer). */
const READ_CONCURRENCY = 8;
/** How often the read-lag gauges are recomputed, ms. */
const LAG_UPDATE_MS = 1000;

/** What {@link ReadPass} needs from the monitor. */
export interface ReadPassContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    | 'maxBytesPerTick'
    | 'readBufferBytes'
    | 'lagMetricTopN'
    | 'pollIntervalMs'
    | 'maxIdlePollIntervalMs'
    | 'idleCloseMs'
  >;
  readonly clock: Clock;
  readonly files: Pick<FileRegistry, 'byId' | 'fileError'>;
  readonly openFiles: Pick<OpenFiles, 'count'>;
  readonly scanner: Pick<
    FileScanner,
    'rescanDue' | 'rescan' | 'hasPendingPaths' | 'trackPendingPaths'
  >;
  readonly reader: Pick<FileReader, 'service'>;
  /** Housekeeping looks at the files a pass visited (the others are parked idle). */
  readonly drain: Pick<FileDrain, 'housekeeping'>;
  readonly emitter: Pick<RecordEmitter, 'blocked'>;
  readonly metrics: FileMetrics;
  /** The splitters' shared counters, published after each pass. */
  readonly counters: SplitterCounters;
  /** Wait until the intake takes records again (the emitter is blocked). */
  readonly waitWritable: () => Promise<void>;
  readonly isStopped: () => boolean;
}

/**
 * One pass over the tracked files: rescan when due, then read every file
 * that needs it (at-risk generations first, round-robin among the rest)
 * within `maxBytesPerTick`, a few files at a time, then housekeeping and
 * metrics. Owns the read buffers. Files found idle are parked until their
 * idle check is due or they are woken ({@link FileWakeups}): a pass visits
 * the awake files only.
 */
export class ReadPass {
  private readonly ctx: ReadPassContext;
  private readonly bufs: Buffer[];
  private readonly wakeups = new FileWakeups();
  private roundRobin = 0;
  private lastLagUpdateAt = 0;
  /** True when the last pass found no file needing more than an idle check. */
  private quiet = false;

  constructor(ctx: ReadPassContext) {
    this.ctx = ctx;
    this.bufs = Array.from({ length: READ_CONCURRENCY }, () =>
      Buffer.allocUnsafe(ctx.options.readBufferBytes),
    );
  }

  /** A read buffer for work outside a pass (the start pass); never used concurrently with one. */
  get firstBuffer(): Buffer {
    return this.bufs[0] as Buffer;
  }

  /**
   * Delay before the next pass when the last one left no work, ms: the
   * poll interval while a file is hot, longer once every file is idle
   * (their checks come due by {@link TailedFile.idleCheckAt}).
   */
  get idleDelayMs(): number {
    const poll = this.ctx.options.pollIntervalMs;
    return this.quiet ? Math.max(poll, QUIET_PASS_MS) : poll;
  }

  /** Visit `f` in the next pass (tracked, marked dirty, given lines). */
  wake(f: TailedFile): void {
    this.wakeups.wake(f);
  }

  /** Files parked idle now (not visited by passes until due). */
  get parkedCount(): number {
    return this.wakeups.parkedCount;
  }

  /** Run one pass; resolves true when work is left (budgets hit). */
  async run(): Promise<boolean> {
    const { clock, files: registry, scanner, emitter } = this.ctx;
    if (this.ctx.isStopped()) return false;
    const now = clock.monotonicNow();
    if (scanner.rescanDue(now)) await scanner.rescan('discovered');
    if (scanner.hasPendingPaths) await scanner.trackPendingPaths();
    let budget = this.ctx.options.maxBytesPerTick;
    let more = false;
    const files = this.wakeups.due(now);
    const n = files.length;
    const startIdx = n === 0 ? 0 : this.roundRobin++ % n;
    const todo: TailedFile[] = [];
    // Files at risk first: renamed-away and deleted generations go away for
    // good once the rotation deletes them or their descriptor is closed.
    const live: TailedFile[] = [];
    this.quiet = true;
    for (let k = 0; k < n; k++) {
      const f = files[(startIdx + k) % n] as TailedFile;
      if (registry.byId.get(f.id) !== f) {
        this.wakeups.forget(f);
        continue;
      }
      if (!this.needsService(f, now)) {
        this.parkIfIdle(f, now);
        continue;
      }
      if (f.state === 'active' && !f.finishOnly) live.push(f);
      else todo.push(f);
    }
    for (const f of live) todo.push(f);
    // Several files at once: each await is a thread-pool round trip, and a
    // loaded machine makes a strictly sequential pass slow for 100+ busy files.
    let next = 0;
    const worker = async (buf: Buffer): Promise<void> => {
      while (next < todo.length && !this.ctx.isStopped() && !emitter.blocked) {
        if (budget <= 0) {
          more = true;
          return;
        }
        const f = todo[next++] as TailedFile;
        if (!registry.byId.has(f.id)) continue;
        f.busy = true;
        try {
          budget -= await this.ctx.reader.service(f, budget, buf);
        } catch (error) {
          registry.fileError(f, error);
        } finally {
          f.busy = false;
          this.scheduleIdleCheck(f);
          if (registry.byId.get(f.id) === f)
            this.parkIfIdle(f, this.ctx.clock.monotonicNow());
          else this.wakeups.forget(f);
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
    if (emitter.blocked) {
      await this.ctx.waitWritable();
      if (this.ctx.isStopped()) return false;
    }
    await this.housekeeping(files);
    publishSplitterCounters(this.ctx.metrics, this.ctx.counters);
    this.ctx.metrics.filesOpen.set(this.ctx.openFiles.count);
    return more;
  }

  /**
   * True when `f` is read (or its path checked) in this pass. Clears
   * `quiet` when `f` needs passes at the poll interval: hot, draining,
   * dirty, or holding a multiline record until its timeout.
   */
  private needsService(f: TailedFile, now: number): boolean {
    if (f.joiner !== undefined && f.joiner.flushDueAtMs !== Infinity)
      this.quiet = false;
    if (f.error !== undefined && now < f.retryAt) return false;
    if (
      f.dirty ||
      f.backlog ||
      !f.initialized ||
      f.state !== 'active' ||
      (f.handle !== undefined && now - f.lastGrowthAt < HOT_WINDOW_MS)
    ) {
      this.quiet = false;
      return true;
    }
    // Idle: events wake it at once (`dirty`); its path is still stat'ed,
    // less often the longer it stays idle, in case an event never comes
    // (inotify queue overflow, network filesystems, watch off).
    return now >= f.idleCheckAt;
  }

  /**
   * When an idle `f` is next checked without an event: after half the
   * time it has been idle, within [`pollIntervalMs`,
   * `maxIdlePollIntervalMs`] (a file idle for an hour is checked every
   * `maxIdlePollIntervalMs`; one idle for 4 s, 2 s later).
   */
  private scheduleIdleCheck(f: TailedFile): void {
    const { pollIntervalMs, maxIdlePollIntervalMs } = this.ctx.options;
    const now = this.ctx.clock.monotonicNow();
    const idleMs = now - f.lastGrowthAt;
    if (idleMs < HOT_WINDOW_MS) this.quiet = false;
    f.idleCheckAt =
      now +
      Math.min(maxIdlePollIntervalMs, Math.max(pollIntervalMs, idleMs / 2));
  }

  /**
   * Park `f` until its next idle check when nothing but that check is
   * left to do: read to its end (no lag for the gauge), not hot, not
   * draining, no record held, no error, no save pending. One with an open
   * descriptor comes back when it is due to be closed as idle.
   */
  private parkIfIdle(f: TailedFile, now: number): void {
    if (
      f.dirty ||
      f.backlog ||
      f.busy ||
      !f.initialized ||
      f.state !== 'active' ||
      f.finishOnly ||
      f.gzip ||
      f.unsaved ||
      f.saving ||
      f.error !== undefined ||
      f.size > f.splitter.fedOffset ||
      (f.joiner !== undefined && f.joiner.flushDueAtMs !== Infinity) ||
      (f.handle !== undefined && now - f.lastGrowthAt < HOT_WINDOW_MS)
    )
      return;
    let dueAt = f.idleCheckAt;
    if (f.handle !== undefined)
      dueAt = Math.min(dueAt, f.lastGrowthAt + this.ctx.options.idleCloseMs);
    if (dueAt > now) this.wakeups.park(f, dueAt);
  }

  /** Housekeeping and gauges over the files this pass visited. */
  private async housekeeping(files: readonly TailedFile[]): Promise<void> {
    const now = this.ctx.clock.monotonicNow();
    await this.ctx.drain.housekeeping(now, files);
    if (now - this.lastLagUpdateAt >= LAG_UPDATE_MS) {
      this.lastLagUpdateAt = now;
      // A parked file is read to its end: no lag to show.
      updateReadLag(this.ctx.metrics, files, this.ctx.options.lagMetricTopN);
    }
  }
}
