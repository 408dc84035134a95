import {
  computeFingerprint,
  computeOffsetMarker,
  decideFileResume,
} from '@lc/positions';
import type {
  FileResetReason,
  ResolvedFileMonitorOptions,
  StartPosition,
} from '../file-monitor-options.js';
import { FINGERPRINT_BYTES, takeHead } from './content-head.js';
import type { CopyRecovery } from './copy-recovery.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { TailedFile } from './tailed-file.js';

/** What {@link FileResume} needs from the monitor. */
export interface FileResumeContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    'startPosition' | 'newFileStartPosition' | 'recentBytes'
  >;
  readonly positions: FilePositions;
  readonly metrics: Pick<FileMetrics, 'rotations' | 'truncations'>;
  /** Paths that had a saved identity at start: a new identity there is a rotation. */
  readonly savedPaths: ReadonlySet<string>;
  /** Finds copies of content rewritten while the monitor was down. */
  readonly copies: Pick<CopyRecovery, 'findCopy'>;
}

/**
 * Where reading a plain file identity starts: its saved position (checked
 * by identity, head fingerprint and offset marker), the start policy,
 * inode reuse, and content rewritten while down (its unread end finished
 * from its copy). Compressed files start in `GzipStart`; truncation while
 * reading is `CopyRecovery`'s.
 */
export class FileResume {
  private readonly options: FileResumeContext['options'];
  private readonly positions: FilePositions;
  private readonly metrics: FileResumeContext['metrics'];
  private readonly savedPaths: ReadonlySet<string>;
  private readonly copies: FileResumeContext['copies'];

  constructor(ctx: FileResumeContext) {
    this.options = ctx.options;
    this.positions = ctx.positions;
    this.metrics = ctx.metrics;
    this.savedPaths = ctx.savedPaths;
    this.copies = ctx.copies;
  }

  /** Decide where a newly opened identity starts. */
  async initialize(f: TailedFile, buf: Buffer): Promise<void> {
    await this.decideStart(f, buf);
    this.syncEpoch(f);
  }

  /**
   * Stamp what is read from now on with the position's epoch (bumped by
   * every reset), so late commits of content read before a reset are told
   * apart from commits of the content after it.
   */
  private syncEpoch(f: TailedFile): void {
    f.epoch = this.positions.committed(f.id)?.epoch ?? 0;
  }

  private async decideStart(f: TailedFile, buf: Buffer): Promise<void> {
    const handle = f.handle as NonNullable<TailedFile['handle']>;
    const head = await takeHead(f, handle);
    f.fingerprint = head.fingerprint;
    f.fingerprintBytes = head.fingerprintBytes;
    f.initialized = true;
    if (f.presetStart !== undefined) {
      // A copy found by copytruncate recovery. Its inode may have been used
      // by an earlier, deleted file that has a saved position: compare heads.
      const prior = this.positions.committed(f.id);
      let start = f.presetStart;
      if (prior !== undefined) {
        const head2 =
          prior.fingerprintBytes <= f.size
            ? await computeFingerprint(handle, prior.fingerprintBytes)
            : undefined;
        if (
          head2?.fingerprint === prior.fingerprint &&
          prior.offset > start.offset
        ) {
          start = { offset: prior.offset, lineNo: prior.logCount };
        } else if (head2?.fingerprint !== prior.fingerprint) {
          this.positions.reset(f.id, 'inode-reused');
        }
      }
      await f.startAt(start.offset, start.lineNo);
      this.positions.upsert(
        f,
        start.offset,
        await computeOffsetMarker(handle, start.offset),
      );
      return;
    }
    const saved = this.positions.committed(f.id);
    let fingerprintAtSavedBytes: string | undefined;
    let markerAtSavedOffset: string | undefined;
    if (saved !== undefined) {
      if (
        saved.fingerprintBytes !== head.fingerprintBytes &&
        saved.fingerprintBytes <= f.size
      ) {
        fingerprintAtSavedBytes = (
          await computeFingerprint(handle, saved.fingerprintBytes)
        ).fingerprint;
      }
      if (saved.offset > 0 && saved.offset <= f.size) {
        markerAtSavedOffset = await computeOffsetMarker(handle, saved.offset);
      }
    }
    const decision = decideFileResume(saved, {
      path: f.path,
      dev: f.dev,
      ino: f.ino,
      size: f.size,
      mtimeMs: f.mtimeMs,
      fingerprint: head.fingerprint,
      fingerprintBytes: head.fingerprintBytes,
      ...(fingerprintAtSavedBytes === undefined
        ? {}
        : { fingerprintAtSavedBytes }),
      ...(markerAtSavedOffset === undefined ? {} : { markerAtSavedOffset }),
    });
    if (decision.action === 'continue' && saved !== undefined) {
      await f.startAt(saved.offset, saved.logCount);
      this.positions.upsert(f);
      return;
    }
    if (saved !== undefined) {
      let copyId: string | undefined;
      if (saved.offset > 0) {
        // Truncated, copytruncated or rewritten while down (the head differs
        // once the file regrew): the unread end of the old content may be in the copy.
        copyId = (
          await this.copies.findCopy(f, {
            fingerprint: saved.fingerprint,
            fingerprintBytes: saved.fingerprintBytes,
            from: saved.offset,
            lineNo: saved.logCount,
            committed: { offset: saved.offset, lineNo: saved.logCount },
            minSize: saved.offset,
            // The position manager computes markers when it flushes, possibly
            // after the truncation (over the new content): a full 1 KiB head
            // match identifies the copy on its own.
            verify: async (h) =>
              saved.offsetMarker === '' ||
              saved.fingerprintBytes >= FINGERPRINT_BYTES ||
              (await computeOffsetMarker(h, saved.offset)) ===
                saved.offsetMarker,
          })
        )?.id;
      }
      // Batches replayed from the WAL still carry the old epoch: they
      // belong to the copy.
      this.positions.reset(
        f.id,
        decision.reason as FileResetReason,
        copyId === undefined ? undefined : { movedTo: copyId },
      );
      if (decision.reason === 'inode-reused')
        this.metrics.rotations.inc({ kind: 'inode-reused' });
      else this.metrics.truncations.inc();
      await f.startAt(0, 0);
      this.positions.upsert(f, 0, '');
      return;
    }
    const policy: StartPosition =
      f.context === 'startup' && !this.savedPaths.has(f.trackedPath)
        ? this.options.startPosition
        : f.context === 'discovered'
          ? this.options.newFileStartPosition
          : 'beginning';
    const offset = await this.startOffset(f, policy, buf);
    await f.startAt(offset, 0);
    this.positions.upsert(
      f,
      offset,
      offset === 0 ? '' : await computeOffsetMarker(handle, offset),
    );
  }

  private async startOffset(
    f: TailedFile,
    policy: StartPosition,
    buf: Buffer,
  ): Promise<number> {
    if (policy === 'beginning') return 0;
    if (policy === 'end') return f.size;
    const from = Math.max(0, f.size - this.options.recentBytes);
    if (from === 0) return 0;
    // Align to the start of the next line.
    const handle = f.handle as NonNullable<TailedFile['handle']>;
    let pos = from - 1;
    while (pos < f.size) {
      const { bytesRead } = await handle.read(
        buf,
        0,
        Math.min(buf.length, f.size - pos),
        pos,
      );
      if (bytesRead === 0) break;
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (nl !== -1) return pos + nl + 1;
      pos += bytesRead;
    }
    return f.size;
  }
}
