import type { Labels, LogRecord, SourceRef } from '@lc/core';
import type { LineFormat } from './format-record.js';

/**
 * Encodes records as newline-terminated lines straight into one buffer,
 * byte for byte what `formatJsonLine` / `formatTextLine` + `\n` would give
 * (see format-record.ts), without a string per record: the parts shared by
 * every record of a source (labels, source) are encoded once per source,
 * the millisecond part of the timestamp once per millisecond, and the line
 * is escaped only when it has to be (most lines need no JSON escape and
 * are copied as they are).
 */
export type LineEncoder = (
  records: readonly LogRecord[],
  indexes?: readonly number[],
) => Buffer;

/** The encoder for `format`. */
export function createLineEncoder(format: LineFormat): LineEncoder {
  return format === 'json' ? encodeJsonLines : encodeTextLines;
}

// A string holds a character JSON.stringify escapes: a quote, a backslash,
// a control character, or a surrogate (lone ones become \uXXXX; paired
// ones are left to JSON.stringify too, rare enough not to matter).
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const QUOTE = 0x22;
const NEWLINE = 0x0a;
const LINE_KEY = Buffer.from('Z","line":', 'latin1');

/** A growable byte buffer written at `o`. */
class Bytes {
  buf: Buffer;
  o = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): Buffer {
    if (this.o + n > this.buf.length) {
      const next = Buffer.allocUnsafe(
        Math.max(this.buf.length * 2, this.o + n),
      );
      this.buf.copy(next, 0, 0, this.o);
      this.buf = next;
    }
    return this.buf;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.o);
  }
}

// Records of one source share one labels object and one source object
// (see Labels): `,"labels":…,"source":…}\n` is encoded once per pair.
interface Suffix {
  readonly source: SourceRef;
  /** `,"labels":{…}` */
  readonly labels: Buffer;
  /** `,"source":{…}}\n` */
  readonly tail: Buffer;
  /** Both, for records without metadata. */
  readonly both: Buffer;
}
const suffixes = new WeakMap<Labels, Suffix>();

function suffixOf(record: LogRecord): Suffix {
  const cached = suffixes.get(record.labels);
  if (cached !== undefined && cached.source === record.source) return cached;
  const labels = Buffer.from(
    `,"labels":${JSON.stringify(record.labels)}`,
    'utf8',
  );
  const tail = Buffer.from(
    `,"source":{"kind":${JSON.stringify(record.source.kind)},"id":${JSON.stringify(record.source.id)}}}\n`,
    'utf8',
  );
  const suffix: Suffix = {
    source: record.source,
    labels,
    tail,
    both: Buffer.concat([labels, tail]),
  };
  suffixes.set(record.labels, suffix);
  return suffix;
}

// `{"timestamp":"YYYY-MM-DDTHH:mm:ss.sss` of the last millisecond seen.
let headMs = Number.NaN;
let head: Buffer = Buffer.alloc(0);

function headOf(ms: number): Buffer {
  if (ms !== headMs) {
    headMs = ms;
    head = Buffer.from(
      `{"timestamp":"${new Date(ms).toISOString().slice(0, 23)}`,
      'latin1',
    );
  }
  return head;
}

function encodeJsonLines(
  records: readonly LogRecord[],
  indexes?: readonly number[],
): Buffer {
  const n = indexes === undefined ? records.length : indexes.length;
  const out = new Bytes(Math.max(4096, n * 256));
  for (let k = 0; k < n; k++) {
    const r = records[indexes === undefined ? k : (indexes[k] as number)];
    const record = r as LogRecord;
    const line = record.line;
    const suffix = suffixOf(record);
    const h = headOf(record.timestampMs);
    // utf8 is at most 3 bytes per UTF-16 unit; JSON escapes at most 6.
    let buf = out.ensure(
      h.length + 6 + LINE_KEY.length + 2 + line.length * 3 + suffix.both.length,
    );
    let o = out.o;
    buf.set(h, o);
    o += h.length;
    let nanos = record.timestampNanos;
    for (let d = o + 5; d >= o; d--) {
      buf[d] = 0x30 + (nanos % 10);
      nanos = Math.floor(nanos / 10);
    }
    o += 6;
    buf.set(LINE_KEY, o);
    o += LINE_KEY.length;
    if (!NEEDS_ESCAPE.test(line)) {
      buf[o++] = QUOTE;
      o += buf.write(line, o, 'utf8');
      buf[o++] = QUOTE;
    } else {
      const json = JSON.stringify(line);
      out.o = o;
      buf = out.ensure(json.length * 3 + suffix.both.length);
      o += buf.write(json, o, 'utf8');
    }
    if (record.metadata === undefined) {
      buf.set(suffix.both, o);
      o += suffix.both.length;
    } else {
      buf.set(suffix.labels, o);
      o += suffix.labels.length;
      const meta = `,"metadata":${JSON.stringify(record.metadata)}`;
      out.o = o;
      buf = out.ensure(meta.length * 3 + suffix.tail.length);
      o += buf.write(meta, o, 'utf8');
      buf.set(suffix.tail, o);
      o += suffix.tail.length;
    }
    out.o = o;
  }
  return out.done();
}

function encodeTextLines(
  records: readonly LogRecord[],
  indexes?: readonly number[],
): Buffer {
  const n = indexes === undefined ? records.length : indexes.length;
  const out = new Bytes(Math.max(4096, n * 192));
  for (let k = 0; k < n; k++) {
    const r = records[indexes === undefined ? k : (indexes[k] as number)];
    let line = (r as LogRecord).line;
    // One record stays one line (see formatTextLine).
    if (line.indexOf('\n') !== -1 || line.indexOf('\r') !== -1)
      line = line.replace(/[\r\n]/g, ' ');
    const buf = out.ensure(line.length * 3 + 1);
    let o = out.o;
    o += buf.write(line, o, 'utf8');
    buf[o++] = NEWLINE;
    out.o = o;
  }
  return out.done();
}
