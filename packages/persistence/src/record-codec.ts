import { LcError } from '@lc/core';
import type { Labels, LogRecord, SourceRef } from '@lc/core';
import { ByteReader } from './internal/byte-reader.js';
import { ByteWriter } from './internal/byte-writer.js';
import {
  readJsonValue,
  setOwn,
  writeJsonValue,
} from './internal/json-value-codec.js';

const FORMAT_VERSION = 1;
// Bytes reserved per record besides its line: timestamps, refs, cursor.
const BYTES_PER_RECORD_GUESS = 48;

/**
 * Encode records into one compact binary buffer (format version 1).
 *
 * Per record: `timestampMs` (float64), `timestampNanos` (varint), the line
 * (varint length + UTF-8), then labels, source, metadata and cursor. Label
 * sets and sources are written once per batch and referenced by index
 * afterwards: records of one source share one frozen label object, and so
 * do the decoded records. Cursors use a tagged binary JSON form, so no
 * record goes through `JSON.stringify`.
 *
 * Round-trips exactly, except that strings containing lone UTF-16
 * surrogates are stored as UTF-8 and come back with U+FFFD (log lines
 * decoded from bytes never contain them).
 */
export function encodeRecords(records: readonly LogRecord[]): Buffer {
  const w = new ByteWriter(recordBytesGuess(records));
  writeRecords(w, records);
  return w.finish();
}

/** A starting size for a writer that will hold `records`. */
export function recordBytesGuess(records: readonly LogRecord[]): number {
  // Mostly-ASCII lines plus fixed fields; avoids regrowing for typical logs.
  let bytes = 64;
  for (const record of records)
    bytes += record.line.length + BYTES_PER_RECORD_GUESS;
  return bytes;
}

/** Append the encoding of `records` to `w` (see {@link encodeRecords}). */
export function writeRecords(
  w: ByteWriter,
  records: readonly LogRecord[],
): void {
  w.u8(FORMAT_VERSION);
  w.varUint(records.length);
  const labelRefs = new Map<Labels, number>();
  const sourceRefs = new Map<string, number>();
  // Records of one source share one SourceRef object; check it first to
  // avoid building a key string per record.
  let lastSource: SourceRef | undefined;
  let lastSourceRef = 0;
  for (const record of records) {
    w.f64(record.timestampMs);
    w.varUint(record.timestampNanos);
    w.string(record.line);
    // 0 = new label set follows; n = reuse the (n-1)th one.
    const labelRef = labelRefs.get(record.labels);
    if (labelRef !== undefined) {
      w.varUint(labelRef + 1);
    } else {
      labelRefs.set(record.labels, labelRefs.size);
      w.varUint(0);
      writeStringMap(w, record.labels);
    }
    if (record.source === lastSource) {
      w.varUint(lastSourceRef + 1);
    } else {
      const sourceKey = `${record.source.kind}\u0000${record.source.id}`;
      const sourceRef = sourceRefs.get(sourceKey);
      if (sourceRef !== undefined) {
        w.varUint(sourceRef + 1);
        lastSourceRef = sourceRef;
      } else {
        lastSourceRef = sourceRefs.size;
        sourceRefs.set(sourceKey, lastSourceRef);
        w.varUint(0);
        w.string(record.source.kind);
        w.string(record.source.id);
      }
      lastSource = record.source;
    }
    if (record.metadata === undefined) {
      w.u8(0);
    } else {
      w.u8(1);
      writeStringMap(w, record.metadata);
    }
    writeJsonValue(w, record.cursor);
  }
}

/**
 * Decode a buffer produced by {@link encodeRecords}. Throws `LcError`
 * `LC_ERR_BUFFER_CORRUPT` on a truncated or malformed buffer.
 */
export function decodeRecords(buf: Buffer): LogRecord[] {
  const r = new ByteReader(buf);
  const out = readRecords(r);
  if (r.remaining !== 0) {
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `${r.remaining} trailing bytes after ${out.length} records`,
    });
  }
  return out;
}

/** Read records written by {@link writeRecords}, leaving `r` after them. */
export function readRecords(r: ByteReader): LogRecord[] {
  const version = r.u8();
  if (version !== FORMAT_VERSION) {
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `unknown record encoding version ${version} (expected ${FORMAT_VERSION})`,
    });
  }
  const count = r.varUint();
  const labelTable: Labels[] = [];
  const sourceTable: SourceRef[] = [];
  const out: LogRecord[] = [];
  for (let i = 0; i < count; i++) {
    const timestampMs = r.f64();
    const timestampNanos = r.varUint();
    const line = r.string();
    const labelRef = r.varUint();
    let labels: Labels;
    if (labelRef === 0) {
      labels = Object.freeze(readStringMap(r));
      labelTable.push(labels);
    } else {
      labels = tableEntry(labelTable, labelRef - 1, 'label set');
    }
    const sourceRef = r.varUint();
    let source: SourceRef;
    if (sourceRef === 0) {
      source = Object.freeze({ kind: r.string(), id: r.string() });
      sourceTable.push(source);
    } else {
      source = tableEntry(sourceTable, sourceRef - 1, 'source');
    }
    const hasMetadata = r.u8() === 1;
    const metadata = hasMetadata ? readStringMap(r) : undefined;
    const cursor = readJsonValue(r);
    const record: {
      -readonly [K in keyof LogRecord]: LogRecord[K];
    } = { timestampMs, timestampNanos, line, labels, source };
    if (metadata !== undefined) record.metadata = metadata;
    if (cursor !== undefined) record.cursor = cursor;
    out.push(record);
  }
  return out;
}

function writeStringMap(
  w: ByteWriter,
  map: Readonly<Record<string, string>>,
): void {
  const keys = Object.keys(map);
  w.varUint(keys.length);
  for (const key of keys) {
    w.string(key);
    w.string(map[key] as string);
  }
}

function readStringMap(r: ByteReader): Record<string, string> {
  const n = r.varUint();
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const key = r.string();
    setOwn(out, key, r.string());
  }
  return out;
}

function tableEntry<T>(table: readonly T[], index: number, what: string): T {
  const entry = table[index];
  if (entry === undefined) {
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `reference to unknown ${what} #${index}`,
    });
  }
  return entry;
}
