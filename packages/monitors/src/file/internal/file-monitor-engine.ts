import type { Clock, Intake, Logger } from '@lc/core';
import { LcError, silentLogger, systemClock } from '@lc/core';
import type {
  FileMonitorOptions,
  ResolvedFileMonitorOptions,
} from '../file-monitor-options.js';
import { resolveFileMonitorOptions } from './resolve-file-monitor-options.js';
import type { FileStatus } from '../file-status.js';
import { CopyRecovery } from './copy-recovery.js';
import { FileDrain } from './file-drain.js';
import type { FileMetrics } from './file-metrics.js';
import { createMultilineMetrics } from '../../multiline/internal/multiline-metrics.js';
import { createFileMetrics } from './file-metrics.js';
import { FilePositions } from './file-positions.js';
import { FileReader } from './file-reader.js';
import { FileRegistry } from './file-registry.js';
import { waitNoticingRotations } from './paused-watch.js';
import { FileResume } from './file-resume.js';
import { FileScanner } from './file-scanner.js';
import { startFiles } from './file-startup.js';
import { GzipAdoption } from './gzip-adoption.js';
import { GzipFiles } from './gzip-files.js';
import type { FileMonitorExtensions } from './line-stage.js';
import { compileGlob } from './glob.js';
import type { FileHandle } from 'node:fs/promises';
import { fileSourceId } from '@lc/positions';
import type { SplitterCounters } from './line-splitter.js';
import { OpenFiles } from './open-files.js';
import { ownOutputFiles } from './own-output-files.js';
import { ReadPass } from './read-pass.js';
import { RecordEmitter } from './record-emitter.js';
import { SiblingSweep } from './sibling-sweep.js';
import { TickScheduler } from './tick-scheduler.js';

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
  /** The tracked identities (`status()`, `atRisk()`). */
  readonly files: FileRegistry;
  private readonly openFiles: OpenFiles;
  private readonly scanner: FileScanner;
  private readonly sweep: SiblingSweep;
  private readonly scheduler: TickScheduler;
  private readonly drain: FileDrain;
  readonly reader: FileReader;
  private readonly gzip: GzipFiles;
  private readonly readPass: ReadPass;
  private started = false;
  /** Set once `start()` finished its own pass; no tick runs before. */
  private ready = false;
  stopped = false;
  /** Paths that had a saved identity at start: a new identity there is a rotation. */
  private readonly savedPaths = new Set<string>();
  /** Aborts a wait for the intake at shutdown. */
  private readonly abort = new AbortController();

  constructor(
    options: FileMonitorOptions,
    extensions: FileMonitorExtensions = {},
  ) {
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
    this.emitter = new RecordEmitter(
      this.intake,
      this.clock,
      this.metrics,
      createMultilineMetrics(options.registry, 'file'),
    );
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
      wake: (f) => this.readPass.wake(f),
      ...(extensions.format === undefined
        ? {}
        : {
            format: extensions.format,
            emitLate: (f, lines) => this.emitter.emit(f, lines),
          }),
    });
    this.openFiles = new OpenFiles({
      maxOpenFiles: this.o.maxOpenFiles,
      metrics: this.metrics,
      onError: this.onError,
      fileError: (f, error) => this.files.fileError(f, error),
    });
    const copies = new CopyRecovery({
      positions: this.positions,
      emitter: this.emitter,
      metrics: this.metrics,
      logger: this.logger,
      isTracked: (id) => this.files.byId.has(id),
      trackCopy: (path, st) => this.files.track(path, st, 'finish'),
      sweepSiblings: (live, sinceMs) =>
        this.sweep.sweepSiblings(live, sinceMs, undefined),
    });
    this.resume = new FileResume({
      options: this.o,
      positions: this.positions,
      metrics: this.metrics,
      savedPaths: this.savedPaths,
      copies,
    });
    this.scheduler = new TickScheduler({
      clock: this.clock,
      onError: this.onError,
      pass: () => this.readPass.run(),
      canSchedule: () => !this.stopped && this.ready,
      isStopped: () => this.stopped,
      idleDelayMs: () =>
        Math.min(
          this.readPass.idleDelayMs,
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
      isDoneCompressed: (id, st) => this.gzip.isDone(id, st),
      requestTick: (delayMs) => this.scheduler.request(delayMs),
    });
    const compressed = new GzipAdoption({
      enabled: this.o.readCompressed,
      registry: this.files,
      positions: this.positions,
      isDone: (id, st) => this.gzip.isDone(id, st),
      metrics: this.metrics,
      logger: this.logger,
    });
    this.sweep = new SiblingSweep({
      includes,
      excludes,
      selfPaths: this.selfPaths,
      registry: this.files,
      positions: this.positions,
      metrics: this.metrics,
      logger: this.logger,
      readCompressed: this.o.readCompressed,
      compressed,
    });
    this.drain = new FileDrain({
      options: this.o,
      files: this.files,
      openFiles: this.openFiles,
      positions: this.positions,
      emitter: this.emitter,
      metrics: this.metrics,
      logger: this.logger,
    });
    this.gzip = new GzipFiles({
      options: this.o,
      clock: this.clock,
      files: this.files,
      positions: this.positions,
      emitter: this.emitter,
      drain: this.drain,
      metrics: this.metrics,
      logger: this.logger,
      savedPaths: this.savedPaths,
      waitWritable: () => this.waitWritable(),
      isStopped: () => this.stopped,
      onError: this.onError,
    });
    this.reader = new FileReader({
      options: this.o,
      clock: this.clock,
      files: this.files,
      openFiles: this.openFiles,
      resume: this.resume,
      rewrites: copies,
      emitter: this.emitter,
      positions: this.positions,
      metrics: this.metrics,
      sweep: this.sweep,
      scanner: this.scanner,
      drain: this.drain,
      gzip: this.gzip,
      isStopped: () => this.stopped,
      onError: this.onError,
      compressed,
      wake: () => this.scheduler.request(0),
    });
    this.readPass = new ReadPass({
      options: this.o,
      clock: this.clock,
      files: this.files,
      openFiles: this.openFiles,
      scanner: this.scanner,
      reader: this.reader,
      drain: this.drain,
      emitter: this.emitter,
      metrics: this.metrics,
      counters: this.counters,
      waitWritable: () => this.waitWritable(),
      isStopped: () => this.stopped,
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.selfPaths.push(...(await ownOutputFiles()));
    await startFiles({
      options: this.o,
      clock: this.clock,
      positions: this.positions,
      files: this.files,
      openFiles: this.openFiles,
      scanner: this.scanner,
      sweep: this.sweep,
      resume: this.resume,
      savedPaths: this.savedPaths,
      buf: this.readPass.firstBuffer,
      isStopped: () => this.stopped,
    });
    if (this.stopped) return;
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
    for (const f of this.files.byId.values())
      this.emitter.flushJoiner(f, 'flush');
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.scheduler.cancel();
    this.scanner.closeWatchers();
    await this.scheduler.running;
    for (const f of this.files.byId.values()) {
      // Deleted and not read to the end: the content goes with the descriptor.
      if (f.state === 'deleted' && f.handle !== undefined)
        this.drain.countUnread(f);
      f.format?.stage.close?.();
      await this.openFiles.close(f);
    }
    this.metrics.filesOpen.set(0);
    this.metrics.directoriesWatched.set(0);
    this.metrics.filesActive.set(0);
  }

  /**
   * Track `path` from a handle its source opened (a Docker log opened when
   * its container started, before the engine removes it with the
   * container): read from it even once the path is deleted. False (the
   * handle closed) when not started, stopped, or the identity is open
   * already.
   */
  async adopt(path: string, handle: FileHandle): Promise<boolean> {
    const st = await handle.stat({ bigint: true }).catch(() => undefined);
    const id = st && fileSourceId(st.dev.toString(), st.ino.toString());
    const known = id === undefined ? undefined : this.files.byId.get(id);
    if (!this.ready || this.stopped || !st || known?.handle !== undefined) {
      await handle.close().catch(this.onError);
      return false;
    }
    const f = known ?? this.files.track(path, st, 'discovered');
    this.openFiles.adopt(f, handle, Number(st.size), Number(st.mtimeMs));
    f.dirty = true;
    this.scheduler.request(0);
    return true;
  }

  status(): FileStatus[] {
    return this.files.status();
  }

  private async waitWritable(): Promise<void> {
    try {
      const writable = this.intake.whenWritable({ signal: this.abort.signal });
      await waitNoticingRotations(writable, this, this.o);
      this.emitter.blocked = false;
    } catch (error) {
      if (LcError.isInstance(error, 'LC_ERR_ABORTED') && this.stopped) return;
      if (LcError.isInstance(error, 'LC_ERR_SHUT_DOWN')) {
        // Called from inside a pass: shutdown() waits for the running pass,
        // so it must not be awaited here (the pass ends because `stopped`
        // is set; shutdown then closes every file).
        this.logger.info('intake shut down: stopping the file monitor');
        this.shutdown().catch(this.onError);
        return;
      }
      throw error;
    }
  }
}
