import type { Logger } from '@lc/core';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import type { SplitLine } from './line-splitter.js';
import type { OpenFiles } from './open-files.js';
import type { RecordEmitter } from './record-emitter.js';
import type { TailedFile } from './tailed-file.js';

/** What {@link FileDrain} needs from the monitor. */
export interface FileDrainContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    | 'partialLineFlushMs'
    | 'deletedFileGraceMs'
    | 'rotatedFileGraceMs'
    | 'idleCloseMs'
  >;
  readonly files: Pick<FileRegistry, 'byId' | 'retire'>;
  readonly openFiles: Pick<OpenFiles, 'close'>;
  readonly positions: Pick<FilePositions, 'upsert'>;
  readonly emitter: Pick<RecordEmitter, 'emit' | 'flushJoiner'>;
  readonly metrics: Pick<
    FileMetrics,
    'partialLineFlushes' | 'errors' | 'unreadBytes'
  >;
  readonly logger: Logger;
}

/**
 * The end of an identity's life: draining rotated and deleted files within
 * their grace, flushing what they hold, closing idle files, and finishing.
 */
export class FileDrain {
  private readonly options: FileDrainContext['options'];
  private readonly files: FileDrainContext['files'];
  private readonly openFiles: FileDrainContext['openFiles'];
  private readonly positions: FileDrainContext['positions'];
  private readonly emitter: FileDrainContext['emitter'];
  private readonly metrics: FileDrainContext['metrics'];
  private readonly logger: Logger;

  constructor(ctx: FileDrainContext) {
    this.options = ctx.options;
    this.files = ctx.files;
    this.openFiles = ctx.openFiles;
    this.positions = ctx.positions;
    this.emitter = ctx.emitter;
    this.metrics = ctx.metrics;
    this.logger = ctx.logger;
  }

  /** A deleted file is closed with bytes never read: they are gone. Counted and logged. */
  countUnread(f: TailedFile): void {
    const unread = f.size - f.splitter.fedOffset;
    if (unread <= 0) return;
    this.metrics.errors.inc({ kind: 'deleted-unread' });
    this.metrics.unreadBytes.inc(unread);
    this.logger.warn(
      { path: f.path, unreadBytes: unread },
      'file monitor: a deleted file was closed with unread bytes: they are lost',
    );
  }

  /** Drop an identity: flush what it holds, close it, remember it. */
  async finish(
    f: TailedFile,
    status: 'rotated' | 'deleted' | 'completed',
  ): Promise<void> {
    this.flushPartial(f);
    this.emitter.flushJoiner(f, 'flush');
    if (status === 'deleted' && f.size > f.splitter.fedOffset) {
      this.countUnread(f);
    }
    await this.openFiles.close(f);
    this.positions.upsert(f, undefined, undefined, status);
    this.files.retire(f);
  }

  /**
   * Per pass, at monotonic `now`: flush held partial lines and multiline
   * records that timed out, finish drained rotated/deleted identities after
   * their grace, and close live files idle for `idleCloseMs`; over `files`
   * (the ones a pass visited; every tracked file by default).
   */
  async housekeeping(
    now: number,
    files: Iterable<TailedFile> = this.files.byId.values(),
  ): Promise<void> {
    for (const f of [...files]) {
      if (this.files.byId.get(f.id) !== f) continue;
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
        if (idle >= this.options.partialLineFlushMs) this.flushPartial(f);
        this.flushDueJoiner(f, now);
        // A deleted file stays open while it has unread bytes (paused by
        // backpressure): its descriptor is the only way to them.
        if (
          f.state === 'deleted' &&
          now - f.drainSince >= this.options.deletedFileGraceMs &&
          f.size <= f.splitter.fedOffset
        ) {
          await this.finish(f, 'deleted');
        } else if (
          f.state !== 'deleted' &&
          idle >= this.options.rotatedFileGraceMs &&
          f.size <= f.splitter.fedOffset
        ) {
          // Read to its end: `completed` says its saved size is final (a
          // `rotated` position may still be draining when saved).
          await this.finish(f, 'completed');
        }
        continue;
      }
      this.flushDueJoiner(f, now);
      if (
        f.handle !== undefined &&
        now - f.lastGrowthAt >= this.options.idleCloseMs &&
        f.size <= f.splitter.fedOffset
      ) {
        await this.openFiles.close(f);
      }
    }
  }

  /**
   * Emit a held unterminated last line (it will never be completed)
   * through the joiner: it is the last line of its record, if any.
   */
  private flushPartial(f: TailedFile): void {
    if (f.splitter.partialBytes === 0) return;
    const lines: SplitLine[] = [];
    f.splitter.flushPartial(lines);
    this.metrics.partialLineFlushes.inc();
    this.emitter.emit(f, lines);
  }

  /**
   * Emit the pending multiline record of `f` once its flush timeout passed
   * with no line to add, and only while nothing more is known to be
   * waiting in the file: a reader paused by backpressure or a budget
   * would otherwise cut records whose next lines are already written.
   */
  private flushDueJoiner(f: TailedFile, now: number): void {
    if (
      f.joiner !== undefined &&
      now >= f.joiner.flushDueAtMs &&
      !f.backlog &&
      f.size <= f.splitter.fedOffset
    )
      this.emitter.flushJoiner(f, 'timeout');
  }
}
