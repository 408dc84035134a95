import type { BigIntStats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@lc/core';
import { computeFingerprint, fileSourceId } from '@lc/positions';
import { takeHead } from './content-head.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { SplitLine } from './line-splitter.js';
import type { RecordEmitter } from './record-emitter.js';
import type { TailedFile } from './tailed-file.js';

/** What {@link CopyRecovery} needs from the monitor. */
export interface CopyRecoveryContext {
  readonly positions: FilePositions;
  readonly emitter: Pick<RecordEmitter, 'emit' | 'flushJoiner'>;
  readonly metrics: Pick<
    FileMetrics,
    'rotations' | 'truncations' | 'partialLineFlushes'
  >;
  readonly logger: Logger;
  /** True when identity `id` is tracked already. */
  readonly isTracked: (id: string) => boolean;
  /** Track the copy found at `path`, to be read to its end and dropped. */
  readonly trackCopy: (path: string, st: BigIntStats) => TailedFile;
  /** Finish, from 0, unknown siblings of `live` modified after `sinceMs`. */
  readonly sweepSiblings: (live: string, sinceMs: number) => Promise<void>;
}

/** The copy of copytruncated content {@link CopyRecovery.findCopy} found. */
export interface FoundCopy {
  readonly id: string;
  /** Its last write (when it was copied), ms. */
  readonly mtimeMs: number;
}

/** What {@link CopyRecovery.findCopy} looks for. */
export interface WantedCopy {
  /** The head of the old content. */
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
  /** Where the copy is read from (what was read of the old content). */
  readonly from: number;
  readonly lineNo: number;
  /** What was delivered of the old content (the copy's first position). */
  readonly committed: { readonly offset: number; readonly lineNo: number };
  /** A copy is at least this long. */
  readonly minSize: number;
  /** A last check of a candidate with the right head. */
  readonly verify: (h: FileHandle) => Promise<boolean>;
}

/**
 * Truncation and copytruncate of a file being read: the unread end of the
 * old content is recovered from its copy (`app.log.1`), found by head
 * fingerprint and the bytes before the offset, and finished as its own
 * identity; then the file is read from 0 under the next epoch.
 */
export class CopyRecovery {
  private readonly positions: FilePositions;
  private readonly emitter: CopyRecoveryContext['emitter'];
  private readonly metrics: CopyRecoveryContext['metrics'];
  private readonly logger: Logger;
  private readonly isTracked: CopyRecoveryContext['isTracked'];
  private readonly trackCopy: CopyRecoveryContext['trackCopy'];
  private readonly sweepSiblings: CopyRecoveryContext['sweepSiblings'];

  constructor(ctx: CopyRecoveryContext) {
    this.positions = ctx.positions;
    this.emitter = ctx.emitter;
    this.metrics = ctx.metrics;
    this.logger = ctx.logger;
    this.isTracked = ctx.isTracked;
    this.trackCopy = ctx.trackCopy;
    this.sweepSiblings = ctx.sweepSiblings;
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
    f.epoch = this.positions.committed(f.id)?.epoch ?? 0;
    if (f.handle !== undefined) {
      const head = await takeHead(f, f.handle);
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
  async findCopy(
    f: TailedFile,
    want: WantedCopy,
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
