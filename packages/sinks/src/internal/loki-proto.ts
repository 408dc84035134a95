/**
 * Hand-written protobuf encoder for Loki's `logproto.PushRequest`. Two
 * passes over the batch: sizes first, then one Buffer filled in place; no
 * object per field, no intermediate buffers (see bench/sinks.mjs for the
 * comparison with protobufjs).
 *
 * PushRequest { repeated StreamAdapter streams = 1; }
 * StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
 * EntryAdapter { Timestamp timestamp = 1; string line = 2;
 *                repeated LabelPairAdapter structuredMetadata = 3; }
 * LabelPairAdapter { string name = 1; string value = 2; }
 * Timestamp { int64 seconds = 1; int32 nanos = 2; }
 */
import {
  fieldLen,
  strLen,
  varintLen,
  writeStr,
  writeVarint,
} from './proto-wire.js';

/** One entry ready for the wire. */
export interface LokiEntry {
  /** Milliseconds since the epoch. */
  readonly timestampMs: number;
  /** Nanoseconds within the millisecond. */
  readonly timestampNanos: number;
  readonly line: string;
  /** Structured metadata as name/value pairs. */
  readonly metadata?: ReadonlyArray<readonly [string, string]>;
  /** Index of the record in the batch given to `write`. */
  readonly index: number;
  /** UTF-8 bytes of `line`, when already known (computed otherwise). */
  readonly lineBytes?: number;
}

/** One stream: a label set in Loki's `{a="b", c="d"}` form and entries. */
export interface LokiStream {
  readonly labels: string;
  readonly entries: LokiEntry[];
}

/**
 * Size in bytes of one entry as encoded inside its stream (tag and length
 * prefix included). Used to split requests under `maxRequestBytes`.
 */
export function entryWireBytes(entry: LokiEntry): number {
  return fieldLen(entryBodyLen(entry, lineBytesOf(entry)));
}

function lineBytesOf(entry: LokiEntry): number {
  return entry.lineBytes ?? strLen(entry.line);
}

function timestampLen(entry: LokiEntry): number {
  const seconds = Math.floor(entry.timestampMs / 1000);
  const nanos =
    (entry.timestampMs - seconds * 1000) * 1_000_000 + entry.timestampNanos;
  return (
    (seconds === 0 ? 0 : 1 + varintLen(seconds)) +
    (nanos === 0 ? 0 : 1 + varintLen(nanos))
  );
}

function entryBodyLen(entry: LokiEntry, lineBytes: number): number {
  let len = fieldLen(timestampLen(entry)) + fieldLen(lineBytes);
  if (entry.metadata !== undefined) {
    for (const [name, value] of entry.metadata) {
      len += fieldLen(fieldLen(strLen(name)) + fieldLen(strLen(value)));
    }
  }
  return len;
}

/** Encode a PushRequest. Streams and entries are written in given order. */
export function encodePushRequest(streams: readonly LokiStream[]): Buffer {
  // Pass 1: sizes. Line byte lengths are cached (the dominant cost).
  let total = 0;
  let entryCount = 0;
  for (const s of streams) entryCount += s.entries.length;
  const lineBytes = new Int32Array(entryCount);
  const entryLens = new Int32Array(entryCount);
  const streamLens = new Float64Array(streams.length);
  let e = 0;
  for (let si = 0; si < streams.length; si++) {
    const s = streams[si] as LokiStream;
    let sLen = fieldLen(strLen(s.labels));
    for (const entry of s.entries) {
      const lb = lineBytesOf(entry);
      lineBytes[e] = lb;
      const len = entryBodyLen(entry, lb);
      entryLens[e] = len;
      sLen += fieldLen(len);
      e++;
    }
    streamLens[si] = sLen;
    total += fieldLen(sLen);
  }
  // Pass 2: write.
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  e = 0;
  for (let si = 0; si < streams.length; si++) {
    const s = streams[si] as LokiStream;
    buf[pos++] = 0x0a; // streams = 1, LEN
    pos = writeVarint(buf, pos, streamLens[si] as number);
    buf[pos++] = 0x0a; // labels = 1
    const labelBytes = strLen(s.labels);
    pos = writeVarint(buf, pos, labelBytes);
    pos = writeStr(buf, pos, s.labels, labelBytes);
    for (const entry of s.entries) {
      buf[pos++] = 0x12; // entries = 2
      pos = writeVarint(buf, pos, entryLens[e] as number);
      const seconds = Math.floor(entry.timestampMs / 1000);
      const nanos =
        (entry.timestampMs - seconds * 1000) * 1_000_000 + entry.timestampNanos;
      buf[pos++] = 0x0a; // timestamp = 1
      pos = writeVarint(buf, pos, timestampLen(entry));
      if (seconds !== 0) {
        buf[pos++] = 0x08;
        pos = writeVarint(buf, pos, seconds);
      }
      if (nanos !== 0) {
        buf[pos++] = 0x10;
        pos = writeVarint(buf, pos, nanos);
      }
      buf[pos++] = 0x12; // line = 2
      pos = writeVarint(buf, pos, lineBytes[e] as number);
      pos = writeStr(buf, pos, entry.line, lineBytes[e] as number);
      if (entry.metadata !== undefined) {
        for (const [name, value] of entry.metadata) {
          const nb = strLen(name);
          const vb = strLen(value);
          buf[pos++] = 0x1a; // structuredMetadata = 3
          pos = writeVarint(buf, pos, fieldLen(nb) + fieldLen(vb));
          buf[pos++] = 0x0a;
          pos = writeVarint(buf, pos, nb);
          pos = writeStr(buf, pos, name, nb);
          buf[pos++] = 0x12;
          pos = writeVarint(buf, pos, vb);
          pos = writeStr(buf, pos, value, vb);
        }
      }
      e++;
    }
  }
  return buf;
}
