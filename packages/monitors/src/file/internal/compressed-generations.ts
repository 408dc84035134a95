import type { BigIntStats } from 'node:fs';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { FilePosition, Logger } from '@lc/core';
import {
  computeFingerprint,
  DEFAULT_MARKER_BYTES,
  fileSourceId,
  fingerprintOf,
} from '@lc/positions';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import { FINGERPRINT_BYTES } from './file-resume.js';
import type { TailedFile } from './tailed-file.js';

/** A head to recognise content by: a fingerprint over its first bytes. */
export interface KnownHead {
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
}

/** What {@link inspectGzip} saw of a gzip file's decompressed content. */
interface GzipView {
  /** Its first bytes (up to the head asked for). */
  readonly head: Buffer;
  /** The marker bytes before `markerAt`, when the content reaches it. */
  readonly beforeMarker: Buffer | undefined;
  /** Decompressed bytes seen: at least `readTo`, or all of them when shorter. */
  readonly length: number;
}

/**
 * Decompress `path` until `readTo` bytes (or its end), keeping its first
 * `headBytes` and the {@link DEFAULT_MARKER_BYTES} before `markerAt`.
 * Undefined when it is not a readable gzip file.
 */
async function inspectGzip(
  path: string,
  headBytes: number,
  markerAt: number,
  readTo: number,
): Promise<GzipView | undefined> {
  const gunzip = createGunzip();
  const input = createReadStream(path);
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  const head: Buffer[] = [];
  let headLen = 0;
  const markerFrom = Math.max(0, markerAt - DEFAULT_MARKER_BYTES);
  const marker: Buffer[] = [];
  let length = 0;
  try {
    for await (const raw of gunzip) {
      const chunk = raw as Buffer;
      const start = length;
      length += chunk.length;
      if (headLen < headBytes) {
        const take = chunk.subarray(0, headBytes - headLen);
        head.push(take);
        headLen += take.length;
      }
      if (length > markerFrom && start < markerAt)
        marker.push(
          chunk.subarray(
            Math.max(0, markerFrom - start),
            Math.min(chunk.length, markerAt - start),
          ),
        );
      if (length >= readTo && headLen >= headBytes) break;
    }
  } catch {
    return undefined;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return {
    head: Buffer.concat(head),
    beforeMarker: length >= markerAt ? Buffer.concat(marker) : undefined,
    length,
  };
}

/** True when `head` starts with the bytes `known` was taken over. */
function sameHead(head: Buffer, known: KnownHead): boolean {
  return (
    known.fingerprintBytes > 0 &&
    head.length >= known.fingerprintBytes &&
    fingerprintOf(head.subarray(0, known.fingerprintBytes)).fingerprint ===
      known.fingerprint
  );
}

/** A compressed rotation name next to a live or rotated file (never a `.tmp` being written). */
export function isCompressedName(name: string): boolean {
  return name.endsWith('.gz');
}

/** What {@link CompressedGenerations} needs from the monitor. */
export interface CompressedGenerationsContext {
  /** False: `.gz` files are never read (the monitor's `readCompressed`). */
  readonly enabled: boolean;
  readonly registry: Pick<FileRegistry, 'byId' | 'track'>;
  readonly positions: Pick<
    FilePositions,
    'committed' | 'upsert' | 'list' | 'reset'
  >;
  readonly metrics: Pick<FileMetrics, 'rotations'>;
  readonly logger: Logger;
}

/**
 * Generations compressed before they were read to their end (kubelet and
 * logrotate `compress` rename, then gzip the renamed file and delete it):
 * the `.gz` is recognised as the content of a known identity by the
 * fingerprint of its decompressed head (and the offset marker before the
 * committed offset), and read from there as its own identity, with a
 * position starting at the committed offset. Compressed generations of
 * no known identity (rotated and compressed while the monitor was down)
 * are recognised as unseen and read whole.
 */
export class CompressedGenerations {
  private readonly ctx: CompressedGenerationsContext;

  constructor(ctx: CompressedGenerationsContext) {
    this.ctx = ctx;
  }

  /**
   * `saved` is gone from disk: find its compressed copy next to it and
   * track it, to be read from `from` (what was read; the committed offset
   * when not given). Returns the copy's id when one was found: its own,
   * or `saved.id` when the copy took the inode of the file it holds.
   */
  async adopt(
    saved: FilePosition,
    from?: { readonly offset: number; readonly lineNo: number },
  ): Promise<string | undefined> {
    if (!this.ctx.enabled || saved.fingerprintBytes === 0) return undefined;
    const dir = dirname(saved.path);
    const base = basename(saved.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    const at = from ?? { offset: saved.offset, lineNo: saved.logCount };
    for (const name of names) {
      if (!isCompressedName(name) || !name.startsWith(base)) continue;
      const path = join(dir, name);
      const st = await statFile(path);
      if (st === undefined) continue;
      const id = fileSourceId(st.dev.toString(), st.ino.toString());
      // Tracked: being read as its own identity.
      if (this.ctx.registry.byId.has(id)) continue;
      const prior =
        id === saved.id ? undefined : this.ctx.positions.committed(id);
      // Read as its own identity before; or its inode had another file.
      if (prior !== undefined && (await rawHeadIs(path, prior))) continue;
      const view = await inspectGzip(
        path,
        saved.fingerprintBytes,
        saved.offset,
        Math.max(at.offset, saved.fingerprintBytes),
      );
      if (view === undefined || !sameHead(view.head, saved)) continue;
      // Shorter than what was read of it: not this content.
      if (view.length < at.offset) continue;
      let start = at;
      let committed = { offset: saved.offset, lineNo: saved.logCount };
      if (
        saved.offset > 0 &&
        saved.offsetMarker !== '' &&
        view.beforeMarker !== undefined &&
        fingerprintOf(view.beforeMarker).fingerprint !== saved.offsetMarker
      ) {
        // Same head, other bytes before the offset: rewritten before it
        // was compressed. Any doubt reads from the beginning.
        start = { offset: 0, lineNo: 0 };
        committed = start;
      }
      // Saved with its own head, so a later start tells it from a file
      // that takes its inode over.
      const raw = await rawHead(path);
      if (raw === undefined) continue;
      if (prior !== undefined) this.ctx.positions.reset(id, 'inode-reused');
      const copy = this.ctx.registry.track(path, st, 'finish');
      copy.presetStart = start;
      copy.fingerprint = raw.fingerprint;
      copy.fingerprintBytes = raw.fingerprintBytes;
      // Its position starts at what was delivered: a crash before the
      // rest is acknowledged reads the copy from there. (When the copy
      // took the inode of the file it holds, that position is this one.)
      if (id !== saved.id)
        this.ctx.positions.upsert(
          copy,
          Math.min(committed.offset, start.offset),
          '',
          undefined,
          Math.min(committed.lineNo, start.lineNo),
        );
      this.ctx.metrics.rotations.inc({ kind: 'compressed' });
      this.ctx.logger.info(
        { path, of: saved.path, from: start.offset },
        'file monitor: finishing a generation from its compressed copy',
      );
      return id;
    }
    return undefined;
  }

  /**
   * True when the compressed file at `path` holds content the monitor
   * knows: the head of a saved identity of its directory, of a tracked
   * identity, or `extra`. Unreadable files, and every file when `.gz`
   * files are not read, count as known (never read as new content).
   */
  async isKnown(path: string, extra: KnownHead | undefined): Promise<boolean> {
    if (!this.ctx.enabled) return true;
    const dir = dirname(path);
    const heads: KnownHead[] = [];
    for (const p of this.ctx.positions.list())
      if (dirname(p.path) === dir) heads.push(p);
    for (const f of this.ctx.registry.byId.values())
      if (dirname(f.path) === dir) heads.push(f);
    if (extra !== undefined) heads.push(extra);
    const view = await inspectGzip(path, FINGERPRINT_BYTES, 0, 0);
    if (view === undefined) return true;
    return heads.some((h) => sameHead(view.head, h));
  }
}

/** The fingerprint of the raw (compressed) head of `path`. */
async function rawHead(path: string): Promise<KnownHead | undefined> {
  try {
    const h = await open(path, 'r');
    try {
      return await computeFingerprint(h, FINGERPRINT_BYTES);
    } finally {
      await h.close();
    }
  } catch {
    return undefined;
  }
}

/** True when the raw (compressed) head of `path` is the one `known` was taken over. */
async function rawHeadIs(path: string, known: KnownHead): Promise<boolean> {
  try {
    const h = await open(path, 'r');
    try {
      const head = await computeFingerprint(h, known.fingerprintBytes);
      return (
        head.fingerprintBytes === known.fingerprintBytes &&
        head.fingerprint === known.fingerprint
      );
    } finally {
      await h.close();
    }
  } catch {
    return false;
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

/**
 * Where a compressed identity starts reading (offsets in its decompressed
 * content): its committed offset, or, for a compressed copy of a known
 * identity, where that one was read (`presetStart`) when later. A saved
 * position whose head is not this file's belongs to a file whose inode it
 * took: reset, read from the beginning (or the preset).
 */
export async function startCompressed(
  f: TailedFile,
  head: KnownHead,
  handle: FileHandle,
  positions: Pick<FilePositions, 'committed' | 'reset' | 'upsert'>,
  metrics: Pick<FileMetrics, 'rotations'>,
): Promise<void> {
  let saved = positions.committed(f.id);
  if (
    saved !== undefined &&
    saved.fingerprint !== '' &&
    saved.fingerprint !==
      (saved.fingerprintBytes === head.fingerprintBytes
        ? head.fingerprint
        : (await computeFingerprint(handle, saved.fingerprintBytes))
            .fingerprint)
  ) {
    positions.reset(f.id, 'inode-reused');
    metrics.rotations.inc({ kind: 'inode-reused' });
    saved = positions.committed(f.id);
  }
  const preset = f.presetStart;
  const start =
    preset !== undefined &&
    (saved === undefined || preset.offset > saved.offset)
      ? preset
      : { offset: saved?.offset ?? 0, lineNo: saved?.logCount ?? 0 };
  f.splitter.reset(start.offset, start.lineNo);
  positions.upsert(f);
}
