import type { Cursor, Labels, LogRecord, SourceRef } from '@lc/core';

// One spilled record: labels id, source id, timestampMs, timestampNanos,
// line, [cursor] or 0 (so a null cursor survives), metadata or 0.
type Row = [
  number,
  number,
  number,
  number,
  string,
  [Cursor] | 0,
  Readonly<Record<string, string>> | 0,
];

/**
 * The label sets and sources of spilled records, kept in memory by
 * identity: records come back from disk with the very objects they were
 * dispatched with (copy-on-write labels stay shared, caches keyed by them
 * keep working). The spill is not read across restarts, so the dictionary
 * never needs to be on disk; it is cleared whenever the spill is empty.
 */
export class SpillDictionary {
  private labels: Labels[] = [];
  private labelIds = new Map<Labels, number>();
  private sources: SourceRef[] = [];
  private sourceIds = new Map<SourceRef, number>();

  labelId(labels: Labels): number {
    let id = this.labelIds.get(labels);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push(labels);
      this.labelIds.set(labels, id);
    }
    return id;
  }

  sourceId(source: SourceRef): number {
    let id = this.sourceIds.get(source);
    if (id === undefined) {
      id = this.sources.length;
      this.sources.push(source);
      this.sourceIds.set(source, id);
    }
    return id;
  }

  label(id: number): Labels {
    return this.labels[id] as Labels;
  }

  source(id: number): SourceRef {
    return this.sources[id] as SourceRef;
  }

  clear(): void {
    this.labels = [];
    this.labelIds = new Map();
    this.sources = [];
    this.sourceIds = new Map();
  }
}

/** Encode a chunk of records: a u32 record count, then JSON rows. */
export function encodeChunk(
  records: readonly LogRecord[],
  dict: SpillDictionary,
): Buffer {
  const rows: Row[] = records.map((r) => [
    dict.labelId(r.labels),
    dict.sourceId(r.source),
    r.timestampMs,
    r.timestampNanos,
    r.line,
    r.cursor === undefined ? 0 : [r.cursor],
    r.metadata ?? 0,
  ]);
  const json = Buffer.from(JSON.stringify(rows), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32LE(records.length, 0);
  json.copy(out, 4);
  return out;
}

/** Records in a chunk, read from its header only. */
export function chunkLength(payload: Buffer): number {
  return payload.length >= 4 ? payload.readUInt32LE(0) : 0;
}

/** Decode a chunk written by {@link encodeChunk} with the same dictionary. */
export function decodeChunk(
  payload: Buffer,
  dict: SpillDictionary,
): LogRecord[] {
  const rows = JSON.parse(payload.toString('utf8', 4)) as Row[];
  return rows.map(([l, s, timestampMs, timestampNanos, line, c, m]) => {
    const record: {
      -readonly [K in keyof LogRecord]: LogRecord[K];
    } = {
      line,
      labels: dict.label(l),
      timestampMs,
      timestampNanos,
      source: dict.source(s),
    };
    if (m !== 0) record.metadata = m;
    if (c !== 0) record.cursor = c[0];
    return record;
  });
}
