// In-memory description of a segment plus its on-disk index file
// (`seg-*.idx`, JSON, written once when the segment is sealed).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexFileName } from './segment-file.js';

const SPARSE_EVERY_BYTES = 256 * 1024;
const MAX_SOURCES = 64;
const INDEX_VERSION = 1;

export interface SegmentMeta {
  name: string;
  firstSeq: number;
  /** firstSeq - 1 while empty. */
  lastSeq: number;
  count: number;
  minTs: number;
  maxTs: number;
  /** File size in bytes (header included). */
  bytes: number;
  /** Distinct sources, or null when unknown or more than MAX_SOURCES. */
  sources: Set<string> | null;
  /** Flat [seq, offset, ...]: frame starts every ~256 KiB, for seeking. */
  sparse: number[];
  sealed: boolean;
  encrypted: boolean;
  createdAtMs: number;
}

export function newSegmentMeta(
  name: string,
  firstSeq: number,
  headerBytes: number,
  createdAtMs: number,
  encrypted: boolean,
): SegmentMeta {
  return {
    name,
    firstSeq,
    lastSeq: firstSeq - 1,
    count: 0,
    minTs: Number.POSITIVE_INFINITY,
    maxTs: Number.NEGATIVE_INFINITY,
    bytes: headerBytes,
    sources: new Set(),
    sparse: [],
    sealed: false,
    encrypted,
    createdAtMs,
  };
}

/** Account for a frame written (or found) at `offset`. */
export function noteFrame(
  meta: SegmentMeta,
  offset: number,
  frameBytes: number,
  range: { firstSeq: number; lastSeq: number; minTs: number; maxTs: number },
  count: number,
  sources: Iterable<string | undefined> | null,
): void {
  const lastSparse =
    meta.sparse.length === 0
      ? -Infinity
      : (meta.sparse[meta.sparse.length - 1] as number);
  if (meta.count === 0 || offset - lastSparse >= SPARSE_EVERY_BYTES)
    meta.sparse.push(range.firstSeq, offset);
  meta.lastSeq = Math.max(meta.lastSeq, range.lastSeq);
  meta.count += count;
  meta.minTs = Math.min(meta.minTs, range.minTs);
  meta.maxTs = Math.max(meta.maxTs, range.maxTs);
  meta.bytes = Math.max(meta.bytes, offset + frameBytes);
  if (sources === null) meta.sources = null;
  else if (meta.sources !== null) {
    for (const s of sources) {
      meta.sources.add(s ?? '');
      if (meta.sources.size > MAX_SOURCES) {
        meta.sources = null;
        break;
      }
    }
  }
}

/**
 * Account for consecutive plain record frames written from `offset`: the
 * hot path, so no per-record allocation.
 */
export function noteRecords(
  meta: SegmentMeta,
  offset: number,
  records: readonly {
    seq: number;
    timestampMs: number;
    sourceText?: string | undefined;
    frameBytes: number;
  }[],
): void {
  let off = offset;
  let lastSource: string | undefined | null = null;
  for (const r of records) {
    const lastSparse =
      meta.sparse.length === 0
        ? -Infinity
        : (meta.sparse[meta.sparse.length - 1] as number);
    if (meta.count === 0 || off - lastSparse >= SPARSE_EVERY_BYTES)
      meta.sparse.push(r.seq, off);
    if (r.seq > meta.lastSeq) meta.lastSeq = r.seq;
    meta.count++;
    if (r.timestampMs < meta.minTs) meta.minTs = r.timestampMs;
    if (r.timestampMs > meta.maxTs) meta.maxTs = r.timestampMs;
    if (meta.sources !== null && r.sourceText !== lastSource) {
      lastSource = r.sourceText;
      meta.sources.add(r.sourceText ?? '');
      if (meta.sources.size > MAX_SOURCES) meta.sources = null;
    }
    off += r.frameBytes;
  }
  meta.bytes = Math.max(meta.bytes, off);
}

/** A frame start at or before `seq`, and the first seq of that frame. */
export function seekOffset(
  meta: SegmentMeta,
  seq: number,
  headerBytes: number,
): { offset: number; seq: number } {
  let best = { offset: headerBytes, seq: meta.firstSeq };
  for (let i = 0; i < meta.sparse.length; i += 2) {
    const s = meta.sparse[i] as number;
    if (s <= seq) best = { offset: meta.sparse[i + 1] as number, seq: s };
    else break;
  }
  return best;
}

interface IndexJson {
  v: number;
  firstSeq: number;
  lastSeq: number;
  count: number;
  minTs: number | null;
  maxTs: number | null;
  bytes: number;
  sources: string[] | null;
  sparse: number[];
  encrypted: boolean;
  createdAtMs: number;
}

export async function writeSegmentIndex(
  directory: string,
  meta: SegmentMeta,
): Promise<void> {
  const json: IndexJson = {
    v: INDEX_VERSION,
    firstSeq: meta.firstSeq,
    lastSeq: meta.lastSeq,
    count: meta.count,
    minTs: Number.isFinite(meta.minTs) ? meta.minTs : null,
    maxTs: Number.isFinite(meta.maxTs) ? meta.maxTs : null,
    bytes: meta.bytes,
    sources: meta.sources === null ? null : [...meta.sources],
    sparse: meta.sparse,
    encrypted: meta.encrypted,
    createdAtMs: meta.createdAtMs,
  };
  const path = join(directory, indexFileName(meta.name));
  await writeFile(`${path}.tmp`, JSON.stringify(json));
  await rename(`${path}.tmp`, path);
}

/**
 * The sealed segment's index, or undefined when missing, unreadable, or
 * not matching the segment file's size (then the segment is rescanned).
 */
export async function readSegmentIndex(
  directory: string,
  name: string,
  fileBytes: number,
): Promise<SegmentMeta | undefined> {
  try {
    const text = await readFile(join(directory, indexFileName(name)), 'utf8');
    const j = JSON.parse(text) as IndexJson;
    if (
      j.v !== INDEX_VERSION ||
      j.bytes !== fileBytes ||
      !Array.isArray(j.sparse)
    )
      return undefined;
    return {
      name,
      firstSeq: j.firstSeq,
      lastSeq: j.lastSeq,
      count: j.count,
      minTs: j.minTs ?? Number.POSITIVE_INFINITY,
      maxTs: j.maxTs ?? Number.NEGATIVE_INFINITY,
      bytes: j.bytes,
      sources: j.sources === null ? null : new Set(j.sources),
      sparse: j.sparse,
      sealed: true,
      encrypted: j.encrypted,
      createdAtMs: j.createdAtMs,
    };
  } catch {
    return undefined;
  }
}
