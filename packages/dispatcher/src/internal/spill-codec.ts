import type { Cursor, Labels, LogRecord, SourceRef } from '@lc/core';
import { recordBytes } from './intake-budget.js';
import { CHUNK_MAX_BYTES, CHUNK_MAX_RECORDS } from './spill-setup.js';

// One spilled record: labels index, source index (into the chunk's own
// tables), timestampMs, timestampNanos, line, [cursor] or 0 (so a null
// cursor survives), metadata or 0.
type Row = [
  number,
  number,
  number,
  number,
  string,
  [Cursor] | 0,
  Readonly<Record<string, string>> | 0,
];

/** A chunk on disk: its label sets, its sources, its rows. */
interface ChunkBody {
  readonly l: Labels[];
  readonly s: SourceRef[];
  readonly r: Row[];
}

/** Interned objects kept at most (then the cache starts over). */
const MAX_INTERNED = 10_000;

/**
 * Interning for spilled records read back: equal label sets and sources
 * come back as one shared object each (label objects are shared and
 * compared by identity downstream, as when they were dispatched). Chunks
 * are self-contained on disk, so records spilled by a previous process
 * read back the same way.
 */
export class SpillDictionary {
  private labels = new Map<string, Labels>();
  private sources = new Map<string, SourceRef>();
  /** The same objects as last encoded (by identity, for the hot path). */
  private labelKeys = new WeakMap<Labels, string>();

  /** The canonical key of a label set (its JSON). */
  keyOf(labels: Labels): string {
    let key = this.labelKeys.get(labels);
    if (key === undefined) {
      key = JSON.stringify(labels);
      this.labelKeys.set(labels, key);
      if (!this.labels.has(key)) this.remember(this.labels, key, labels);
    }
    return key;
  }

  /** The canonical key of a source; this very object is what reads give back. */
  sourceKeyOf(source: SourceRef): string {
    const key = `${source.kind}\u0000${source.id}`;
    if (!this.sources.has(key)) this.remember(this.sources, key, source);
    return key;
  }

  /** The shared label set equal to `labels` (read back from disk). */
  internLabels(labels: Labels): Labels {
    const key = JSON.stringify(labels);
    const known = this.labels.get(key);
    if (known !== undefined) return known;
    const frozen = Object.freeze(labels);
    this.remember(this.labels, key, frozen);
    this.labelKeys.set(frozen, key);
    return frozen;
  }

  /** The shared source equal to `source`. */
  internSource(source: SourceRef): SourceRef {
    const key = `${source.kind}\u0000${source.id}`;
    const known = this.sources.get(key);
    if (known !== undefined) return known;
    const frozen = Object.freeze({ kind: source.kind, id: source.id });
    this.remember(this.sources, key, frozen);
    return frozen;
  }

  clear(): void {
    this.labels = new Map();
    this.sources = new Map();
  }

  private remember<T>(map: Map<string, T>, key: string, value: T): void {
    if (map.size >= MAX_INTERNED) map.clear();
    map.set(key, value);
  }
}

/**
 * Encode a chunk of records: a u32 record count, then JSON of the chunk's
 * label sets and sources and one row per record pointing into them.
 */
export function encodeChunk(
  records: readonly LogRecord[],
  dict: SpillDictionary,
): Buffer {
  const labelIndex = new Map<string, number>();
  const sourceIndex = new Map<string, number>();
  const body: ChunkBody = { l: [], s: [], r: [] };
  for (const r of records) {
    const lk = dict.keyOf(r.labels);
    let li = labelIndex.get(lk);
    if (li === undefined) {
      li = body.l.length;
      body.l.push(r.labels);
      labelIndex.set(lk, li);
    }
    const sk = dict.sourceKeyOf(r.source);
    let si = sourceIndex.get(sk);
    if (si === undefined) {
      si = body.s.length;
      body.s.push({ kind: r.source.kind, id: r.source.id });
      sourceIndex.set(sk, si);
    }
    body.r.push([
      li,
      si,
      r.timestampMs,
      r.timestampNanos,
      r.line,
      r.cursor === undefined ? 0 : [r.cursor],
      r.metadata ?? 0,
    ]);
  }
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32LE(records.length, 0);
  json.copy(out, 4);
  return out;
}

/** Records in a chunk, read from its header only. */
export function chunkLength(payload: Buffer): number {
  return payload.length >= 4 ? payload.readUInt32LE(0) : 0;
}

/** Decode a chunk written by {@link encodeChunk} (by this process or an earlier one). */
export function decodeChunk(
  payload: Buffer,
  dict: SpillDictionary,
): LogRecord[] {
  const body = JSON.parse(payload.toString('utf8', 4)) as ChunkBody;
  const labels = body.l.map((l) => dict.internLabels(l));
  const sources = body.s.map((s) => dict.internSource(s));
  return body.r.map(([l, s, timestampMs, timestampNanos, line, c, m]) => {
    const record: {
      -readonly [K in keyof LogRecord]: LogRecord[K];
    } = {
      line,
      labels: labels[l] as Labels,
      timestampMs,
      timestampNanos,
      source: sources[s] as SourceRef,
    };
    if (m !== 0) record.metadata = m;
    if (c !== 0) record.cursor = c[0];
    return record;
  });
}

/** How many of `unwritten`'s first records go in the next chunk, and their estimated bytes. */
export function nextChunk(unwritten: readonly LogRecord[]): {
  n: number;
  bytes: number;
} {
  let n = 0;
  let bytes = 0;
  while (
    n < unwritten.length &&
    n < CHUNK_MAX_RECORDS &&
    bytes < CHUNK_MAX_BYTES
  ) {
    bytes += recordBytes(unwritten[n] as LogRecord);
    n++;
  }
  return { n, bytes };
}
