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
    | 'multiline'
    | 'idleCloseMs'
  >;
  readonly files: Pick<FileRegistry, 'byId' | 'retire'>;
  readonly openFiles: Pick<OpenFiles, 'close'>;
  readonly positions: Pick<FilePositions, 'upsert'>;
  readonly emitter: Pick<RecordEmitter, 'emitRaw'>;
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
    const lines: SplitLine[] = [];
    if (f.splitter.partialBytes > 0) {
      f.splitter.flushPartial(lines);
      this.metrics.partialLineFlushes.inc();
    }
    f.joiner?.flush(lines);
    if (lines.length > 0) this.emitter.emitRaw(f, lines);
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
   * their grace, and close live files idle for `idleCloseMs`.
   */
  async housekeeping(now: number): Promise<void> {
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
        if (
          f.splitter.partialBytes > 0 &&
          idle >= this.options.partialLineFlushMs
        ) {
          const lines: SplitLine[] = [];
          f.splitter.flushPartial(lines);
          this.metrics.partialLineFlushes.inc();
          this.emitter.emitRaw(f, lines);
        }
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
      if (
        f.joiner?.pending === true &&
        now - f.joiner.lastAddedAt >=
          (this.options.multiline?.flushTimeoutMs ?? 0)
      ) {
        const lines: SplitLine[] = [];
        f.joiner.flush(lines);
        this.emitter.emitRaw(f, lines);
      }
      if (
        f.handle !== undefined &&
        now - f.lastGrowthAt >= this.options.idleCloseMs &&
        f.size <= f.splitter.fedOffset
      ) {
        await this.openFiles.close(f);
      }
    }
  }
}
