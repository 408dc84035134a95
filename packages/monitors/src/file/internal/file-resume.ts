import type { BigIntStats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@lc/core';
import {
  computeFingerprint,
  computeOffsetMarker,
  decideFileResume,
  fileSourceId,
  fingerprintOf,
} from '@lc/positions';
import type { FileFingerprint } from '@lc/positions';
import type {
  FileResetReason,
  ResolvedFileMonitorOptions,
  StartPosition,
} from '../file-monitor-options.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { SplitLine } from './line-splitter.js';
import type { RecordEmitter } from './record-emitter.js';
import type { TailedFile } from './tailed-file.js';

/** Bytes of a file's head hashed into its fingerprint. */
export const FINGERPRINT_BYTES = 1024;

/** What {@link FileResume} needs from the monitor. */
export interface FileResumeContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    'startPosition' | 'newFileStartPosition' | 'recentBytes'
  >;
  readonly positions: FilePositions;
  readonly emitter: Pick<RecordEmitter, 'emit' | 'flushJoiner'>;
  readonly metrics: Pick<
    FileMetrics,
    'rotations' | 'truncations' | 'partialLineFlushes'
  >;
  readonly logger: Logger;
  /** Paths that had a saved identity at start: a new identity there is a rotation. */
  readonly savedPaths: ReadonlySet<string>;
  /** True when identity `id` is tracked already. */
  readonly isTracked: (id: string) => boolean;
  /** Track the copy found at `path`, to be read to its end and dropped. */
  readonly trackCopy: (path: string, st: BigIntStats) => TailedFile;
  /** Finish, from 0, unknown siblings of `live` modified after `sinceMs`. */
  readonly sweepSiblings: (live: string, sinceMs: number) => Promise<void>;
}

/** The copy of copytruncated content `findCopy` found. */
interface FoundCopy {
  readonly id: string;
  /** Its last write (when it was copied), ms. */
  readonly mtimeMs: number;
}

/**
 * Where reading an identity starts and restarts: the start decision
 * (saved position, start policy, inode reuse, rewritten while down) and
 * truncation handling, both recovering the unread end of copytruncated
 * content from its copy.
 */
export class FileResume {
  private readonly options: FileResumeContext['options'];
  private readonly positions: FilePositions;
  private readonly emitter: FileResumeContext['emitter'];
  private readonly metrics: FileResumeContext['metrics'];
  private readonly logger: Logger;
  private readonly savedPaths: ReadonlySet<string>;
  private readonly isTracked: FileResumeContext['isTracked'];
  private readonly trackCopy: FileResumeContext['trackCopy'];
  private readonly sweepSiblings: FileResumeContext['sweepSiblings'];

  constructor(ctx: FileResumeContext) {
    this.options = ctx.options;
    this.positions = ctx.positions;
    this.emitter = ctx.emitter;
    this.metrics = ctx.metrics;
    this.logger = ctx.logger;
    this.savedPaths = ctx.savedPaths;
    this.isTracked = ctx.isTracked;
    this.trackCopy = ctx.trackCopy;
    this.sweepSiblings = ctx.sweepSiblings;
  }

  /** Decide where a newly opened identity starts. */
  async initialize(f: TailedFile, buf: Buffer): Promise<void> {
    await this.decideStart(f, buf);
    this.syncEpoch(f);
  }

  /**
   * Read and fingerprint the head of `f`, and have the reads that cover it
   * check they find the same bytes: a copytruncate between this and the
   * first read would otherwise go unseen, and the new content would be
   * read under the old content's fingerprint (its copy never finished).
   */
  private async takeHead(
    f: TailedFile,
    handle: FileHandle,
  ): Promise<FileFingerprint> {
    const head = Buffer.alloc(FINGERPRINT_BYTES);
    let n = 0;
    while (n < head.length) {
      const { bytesRead } = await handle.read(head, n, head.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    f.expectHead(head.subarray(0, n));
    return fingerprintOf(head.subarray(0, n));
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
    const head = await this.takeHead(f, handle);
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
          await this.findCopy(f, {
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

  /** The file is shorter than what was read, or its bytes before the offset changed. */
  async handleRewrite(
    f: TailedFile,
    kind: 'truncate' | 'copytruncate',
  ): Promise<void> {
    const copy = await this.recoverFromCopy(f);
    const copyId = copy?.id;
    const recovered = copy !== undefined;
    if (!recovered && f.splitter.partialBytes > 0) {
      // Its end is gone: the last line of the pending record, if any.
      const lines: SplitLine[] = [];
      f.splitter.flushPartial(lines);
      this.metrics.partialLineFlushes.inc();
      this.emitter.emit(f, lines);
    }
    this.emitter.flushJoiner(f, 'flush');
    if (copy !== undefined) {
      // More than one copytruncate since the last read (a long pause, a
      // slow start): copies younger than the one holding what was read
      // hold content this identity never showed. Finish them from 0 (one
      // millisecond back: two copies can share a millisecond mtime).
      await this.sweepSiblings(f.path, copy.mtimeMs - 1);
    }
    await f.startAt(0, 0);
    f.clearTail();
    // Lines read before the truncation may still be in flight: their
    // acknowledgements arrive after this reset and belong to the copy.
    this.positions.reset(
      f.id,
      kind === 'truncate' ? 'truncated' : 'copytruncate',
      copyId === undefined ? undefined : { movedTo: copyId },
    );
    this.syncEpoch(f);
    if (f.handle !== undefined) {
      const head = await this.takeHead(f, f.handle);
      f.fingerprint = head.fingerprint;
      f.fingerprintBytes = head.fingerprintBytes;
    }
    this.positions.upsert(f, 0, '');
    this.metrics.truncations.inc();
    this.metrics.rotations.inc({
      kind: kind === 'truncate' ? 'truncate' : 'copytruncate',
    });
    this.logger.info(
      { path: f.path, kind, recoveredFromCopy: recovered },
      'file monitor: file truncated, reading from 0',
    );
  }

  /**
   * copytruncate: the bytes between what was read and the truncation are in
   * the copy (`app.log.1`). Find a sibling with the same head whose bytes
   * before our offset match, and finish it from our line start.
   */
  private async recoverFromCopy(f: TailedFile): Promise<FoundCopy | undefined> {
    if (f.handle === undefined || f.fingerprintBytes === 0) return undefined;
    const tail = f.tailCopy();
    const fed = f.splitter.fedOffset;
    const from = f.splitter.lineStartOffset;
    const saved = this.positions.committed(f.id);
    const committed =
      saved !== undefined &&
      saved.offset <= from &&
      (saved.epoch ?? 0) === f.epoch
        ? { offset: saved.offset, lineNo: saved.logCount }
        : { offset: from, lineNo: f.splitter.lastLineNo };
    return this.findCopy(f, {
      fingerprint: f.fingerprint,
      fingerprintBytes: f.fingerprintBytes,
      from,
      lineNo: f.splitter.lastLineNo,
      committed,
      minSize: fed,
      verify: async (h) => {
        const probe = Buffer.alloc(tail.length);
        const { bytesRead } = await h.read(
          probe,
          0,
          tail.length,
          fed - tail.length,
        );
        return bytesRead === tail.length && probe.equals(tail);
      },
    });
  }

  /**
   * Look among the siblings of `f` (same name stem, not compressed) for a
   * copy of its old content: same head fingerprint and `verify` passes.
   * When found, finish the copy from `from` as its own identity, and give
   * it the position `committed` (what was delivered of the old content, at
   * most `from`): a crash before the lines in between are acknowledged
   * resumes the copy there. Returns the copy's id and last write.
   */
  private async findCopy(
    f: TailedFile,
    want: {
      fingerprint: string;
      fingerprintBytes: number;
      from: number;
      lineNo: number;
      committed: { offset: number; lineNo: number };
      minSize: number;
      verify: (h: FileHandle) => Promise<boolean>;
    },
  ): Promise<FoundCopy | undefined> {
    const dir = dirname(f.path);
    const base = basename(f.path);
    const stem = base.includes('.') ? base.slice(0, base.indexOf('.')) : base;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (name === base || !name.startsWith(stem) || name.endsWith('.gz'))
        continue;
      const path = join(dir, name);
      let st: BigIntStats;
      try {
        st = await stat(path, { bigint: true });
      } catch {
        continue;
      }
      if (!st.isFile() || Number(st.size) < want.minSize) continue;
      const id = fileSourceId(st.dev.toString(), st.ino.toString());
      if (id === f.id) continue;
      let matches = false;
      try {
        const h = await open(path, 'r');
        try {
          const head = await computeFingerprint(h, want.fingerprintBytes);
          matches =
            head.fingerprint === want.fingerprint && (await want.verify(h));
        } finally {
          await h.close();
        }
      } catch {
        continue;
      }
      if (!matches) continue;
      const found = { id, mtimeMs: Number(st.mtimeMs) };
      if (this.isTracked(id)) return found; // being read as its own file already
      const copy = this.trackCopy(path, st);
      copy.presetStart = { offset: want.from, lineNo: want.lineNo };
      if (this.positions.committed(id) === undefined) {
        // Persisted before the live identity is reset, so no moment exists
        // where neither position covers the undelivered lines. (A saved
        // position of this inode is checked in `decideStart`.)
        copy.fingerprint = want.fingerprint;
        copy.fingerprintBytes = want.fingerprintBytes;
        const at =
          want.committed.offset <= want.from
            ? want.committed
            : { offset: want.from, lineNo: want.lineNo };
        this.positions.upsert(copy, at.offset, '', undefined, at.lineNo);
      }
      this.metrics.rotations.inc({ kind: 'copytruncate' });
      this.logger.info(
        { path: f.path, copy: path, from: want.from },
        'file monitor: finishing the copy of a copytruncated file',
      );
      return found;
    }
    return undefined;
  }
}
