import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FilePosition, Logger } from '@lc/core';
import { fileSourceId } from '@lc/positions';
import type { KnownHead } from './content-head.js';
import {
  FINGERPRINT_BYTES,
  isCompressedName,
  sameHead,
} from './content-head.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import { readGzipHead } from './gzip-reader.js';

/** What {@link GzipAdoption} needs from the monitor. */
export interface GzipAdoptionContext {
  /** False: `.gz` files are never read (the monitor's `readCompressed`). */
  readonly enabled: boolean;
  readonly registry: Pick<FileRegistry, 'byId' | 'track'>;
  readonly positions: Pick<FilePositions, 'committed' | 'list'>;
  /** True for a `.gz` identity finished and unchanged (see `GzipFiles.isDone`). */
  readonly isDone: (id: string, st: BigIntStats) => boolean;
  readonly metrics: Pick<FileMetrics, 'rotations'>;
  readonly logger: Logger;
}

/**
 * Finds the `.gz` that holds a file identity gone before it was read to
 * its end (the kubelet, and logrotate `compress` without
 * `delaycompress`, rename, gzip the renamed file and delete it), and
 * tells apart compressed generations of known content from unseen ones.
 * Both by content: a `.gz`'s decompressed head is the head of the file it
 * was compressed from. Reading, and where it starts, is `GzipFiles`'s.
 */
export class GzipAdoption {
  private readonly ctx: GzipAdoptionContext;

  constructor(ctx: GzipAdoptionContext) {
    this.ctx = ctx;
  }

  /**
   * `saved` left its directory unfinished: find, among the `.gz` next to
   * its path and named like it (same name up to the first dot; the one
   * named after it first), the one whose decompressed head is its head.
   * Unless that `.gz` is read already (started, finished, or saved with
   * that content), it is tracked (if it is not yet) to be read from where
   * `saved` was read (`compressedFrom`). Returns the `.gz`'s id when one holds it (`saved.id`
   * when it took the inode of the file it holds), else undefined.
   */
  async adopt(saved: FilePosition): Promise<string | undefined> {
    if (!this.ctx.enabled || saved.fingerprintBytes === 0) return undefined;
    const dir = dirname(saved.path);
    const base = basename(saved.path);
    const stem = base.includes('.') ? base.slice(0, base.indexOf('.')) : base;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    const candidates = names
      .filter((n) => isCompressedName(n) && n.startsWith(stem))
      .sort((a, b) => Number(b.startsWith(base)) - Number(a.startsWith(base)));
    for (const name of candidates) {
      const path = join(dir, name);
      const st = await statFile(path);
      if (st === undefined) continue;
      const id = fileSourceId(st.dev.toString(), st.ino.toString());
      let head: Buffer;
      try {
        head = await readGzipHead(path, FINGERPRINT_BYTES);
      } catch {
        continue;
      }
      if (!sameHead(head, saved)) continue;
      // Read as its own identity already: done, or saved with this content
      // (its own position says where it is).
      const own =
        id === saved.id ? undefined : this.ctx.positions.committed(id);
      if (
        this.ctx.isDone(id, st) ||
        (own !== undefined && own.fingerprintBytes > 0 && sameHead(head, own))
      )
        return id;
      const tracked = this.ctx.registry.byId.get(id);
      // Tracked and started: it knows where it reads from. Tracked but not
      // started yet (the globs match it): it would look for `saved` when it
      // starts, and by then a file that took the inode of `saved` may have
      // reset that position, so it is told now.
      if (
        tracked !== undefined &&
        (tracked.initialized || tracked.compressedFrom !== undefined)
      )
        return id;
      const gz = tracked ?? this.ctx.registry.track(path, st, 'finish');
      gz.compressedFrom = saved;
      this.ctx.metrics.rotations.inc({ kind: 'compressed' });
      this.ctx.logger.info(
        { path, of: saved.path, committedOffset: saved.offset },
        'file monitor: finishing a generation from its compressed copy',
      );
      return id;
    }
    return undefined;
  }

  /**
   * True when the compressed file at `path` holds content the monitor
   * knows: the head of a saved identity of its directory, of a tracked
   * identity, or `extra` (that identity adopts it, or read it). Unreadable
   * files, and every file when `.gz` files are not read, count as known
   * (never read as new content).
   */
  async isKnown(path: string, extra: KnownHead | undefined): Promise<boolean> {
    if (!this.ctx.enabled) return true;
    const dir = dirname(path);
    const heads: KnownHead[] = [];
    for (const p of this.ctx.positions.list())
      if (dirname(p.path) === dir && p.fingerprintBytes > 0) heads.push(p);
    for (const f of this.ctx.registry.byId.values())
      if (dirname(f.path) === dir && f.fingerprintBytes > 0) heads.push(f);
    if (extra !== undefined && extra.fingerprintBytes > 0) heads.push(extra);
    let head: Buffer;
    try {
      head = await readGzipHead(path, FINGERPRINT_BYTES);
    } catch {
      return true;
    }
    return heads.some((h) => sameHead(head, h));
  }
}

async function statFile(path: string): Promise<BigIntStats | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}
