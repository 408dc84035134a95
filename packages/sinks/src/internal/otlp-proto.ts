/**
 * Hand-written protobuf encoder for OTLP `ExportLogsServiceRequest`
 * (opentelemetry-proto, collector/logs/v1). Sizes first, then one Buffer
 * filled in place. Attribute sets shared by many records (those from a
 * label set) and resources are encoded once and their bytes reused.
 *
 * ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
 * ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
 * Resource { repeated KeyValue attributes = 1; }
 * ScopeLogs { repeated LogRecord log_records = 2; }
 * LogRecord { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2;
 *   string severity_text = 3; AnyValue body = 5;
 *   repeated KeyValue attributes = 6; fixed32 flags = 8; bytes trace_id = 9;
 *   bytes span_id = 10; fixed64 observed_time_unix_nano = 11; }
 * KeyValue { string key = 1; AnyValue value = 2; }
 * AnyValue { oneof value { string string_value = 1; ... } }
 */
import {
  fieldLen,
  strLen,
  varintLen,
  writeStr,
  writeVarint,
} from './proto-wire.js';

/** One attribute: key and string value. */
export type OtlpKeyValue = readonly [key: string, value: string];

/**
 * Attributes shared by many records or a resource. The encoders cache
 * their bytes per object, so keep one object per distinct set.
 */
export interface OtlpAttributeSet {
  readonly pairs: readonly OtlpKeyValue[];
}

/** One log record ready for the wire. */
export interface OtlpLogRecord {
  /** Milliseconds since the epoch. */
  readonly timestampMs: number;
  /** Nanoseconds within the millisecond. */
  readonly timestampNanos: number;
  /** The body (a string AnyValue). */
  readonly line: string;
  /** UTF-8 byte length of `line`. */
  readonly lineBytes: number;
  /** 0 (UNSPECIFIED) to 24. */
  readonly severityNumber: number;
  readonly severityText: string | undefined;
  /** Attributes shared with other records (encoded once). */
  readonly shared: OtlpAttributeSet;
  /** Attributes of this record only. */
  readonly own: readonly OtlpKeyValue[] | undefined;
  /** 16 bytes. */
  readonly traceId: Buffer | undefined;
  /** 8 bytes. */
  readonly spanId: Buffer | undefined;
  /** W3C trace flags in the low byte; 0 when none. */
  readonly flags: number;
}

/** Records of one resource. */
export interface OtlpResourceLogs {
  readonly resource: OtlpAttributeSet;
  readonly records: readonly OtlpLogRecord[];
}

/** Observed time (or any instant) as epoch ms + nanos within the ms. */
export interface OtlpInstant {
  readonly timestampMs: number;
  readonly timestampNanos: number;
}

const TWO_32 = 0x1_0000_0000;

/**
 * Write epoch nanoseconds (ms + nanos within the ms) as little-endian
 * fixed64 without a bigint: ns = mh·1e6·2³² + ml·1e6 + nanos where
 * ms = mh·2³² + ml; every partial product is an exact double.
 */
function writeFixed64Nanos(
  buf: Buffer,
  pos: number,
  ms: number,
  nanos: number,
): number {
  if (ms < 0) ms = 0;
  const mh = Math.floor(ms / TWO_32);
  const ml = ms - mh * TWO_32;
  const low = ml * 1_000_000 + nanos; // < 2^53
  const carry = Math.floor(low / TWO_32);
  buf.writeUInt32LE(low - carry * TWO_32, pos);
  buf.writeUInt32LE(mh * 1_000_000 + carry, pos + 4);
  return pos + 8;
}

function keyValueLen(key: string, value: string): number {
  // KeyValue { key = 1; value = 2 (AnyValue { string_value = 1 }) }
  return fieldLen(strLen(key)) + fieldLen(fieldLen(strLen(value)));
}

function writeKeyValue(
  buf: Buffer,
  pos: number,
  tag: number,
  key: string,
  value: string,
): number {
  const kb = strLen(key);
  const vb = strLen(value);
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, fieldLen(kb) + fieldLen(fieldLen(vb)));
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, kb);
  pos = writeStr(buf, pos, key, kb);
  buf[pos++] = 0x12;
  pos = writeVarint(buf, pos, fieldLen(vb));
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, vb);
  return writeStr(buf, pos, value, vb);
}

function pairsLen(pairs: readonly OtlpKeyValue[]): number {
  let len = 0;
  for (const [k, v] of pairs) len += fieldLen(keyValueLen(k, v));
  return len;
}

function encodePairs(pairs: readonly OtlpKeyValue[], tag: number): Buffer {
  const buf = Buffer.allocUnsafe(pairsLen(pairs));
  let pos = 0;
  for (const [k, v] of pairs) pos = writeKeyValue(buf, pos, tag, k, v);
  return buf;
}

/** Repeated `attributes = 6` fields of a shared set, by set. */
const recordAttrCache = new WeakMap<OtlpAttributeSet, Buffer>();
/** Repeated `attributes = 1` fields of a Resource, by set. */
const resourceCache = new WeakMap<OtlpAttributeSet, Buffer>();

function cached(
  cache: WeakMap<OtlpAttributeSet, Buffer>,
  set: OtlpAttributeSet,
  tag: number,
): Buffer {
  let bytes = cache.get(set);
  if (bytes === undefined) {
    bytes = encodePairs(set.pairs, tag);
    cache.set(set, bytes);
  }
  return bytes;
}

/** Length of the LogRecord message body (without its tag and length). */
function recordBodyLen(r: OtlpLogRecord, sharedLen: number): number {
  let len = 9 + 9; // time_unix_nano, observed_time_unix_nano
  if (r.severityNumber !== 0) len += 1 + varintLen(r.severityNumber);
  if (r.severityText !== undefined && r.severityText !== '')
    len += fieldLen(strLen(r.severityText));
  len += fieldLen(fieldLen(r.lineBytes));
  len += sharedLen;
  if (r.own !== undefined) len += pairsLen(r.own);
  if (r.flags !== 0) len += 5;
  if (r.traceId !== undefined) len += fieldLen(r.traceId.length);
  if (r.spanId !== undefined) len += fieldLen(r.spanId.length);
  return len;
}

/**
 * Bytes one record adds to a request (tag and length prefix included).
 * Used to split requests under `maxRequestBytes`.
 */
export function logRecordWireBytes(r: OtlpLogRecord): number {
  return fieldLen(
    recordBodyLen(r, cached(recordAttrCache, r.shared, 0x32).length),
  );
}

/** Bytes a resource adds to a request besides its records. */
export function resourceWireBytes(resource: OtlpAttributeSet): number {
  const res = cached(resourceCache, resource, 0x0a).length;
  return fieldLen(res) + 16;
}

/**
 * Encode an `ExportLogsServiceRequest`: one ResourceLogs per group (in the
 * given order) holding one ScopeLogs with the group's records in order.
 * `observed` becomes every record's `observed_time_unix_nano`.
 */
export function encodeExportLogsRequest(
  groups: readonly OtlpResourceLogs[],
  observed: OtlpInstant,
): Buffer {
  let count = 0;
  for (const g of groups) count += g.records.length;
  const bodyLens = new Float64Array(count);
  const scopeLens = new Float64Array(groups.length);
  const resourceLens = new Float64Array(groups.length);
  let total = 0;
  let i = 0;
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi] as OtlpResourceLogs;
    let scope = 0;
    for (const r of g.records) {
      const len = recordBodyLen(
        r,
        cached(recordAttrCache, r.shared, 0x32).length,
      );
      bodyLens[i++] = len;
      scope += fieldLen(len);
    }
    scopeLens[gi] = scope;
    const res = cached(resourceCache, g.resource, 0x0a).length;
    const rl = (res === 0 ? 0 : fieldLen(res)) + fieldLen(scope);
    resourceLens[gi] = rl;
    total += fieldLen(rl);
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  i = 0;
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi] as OtlpResourceLogs;
    buf[pos++] = 0x0a; // resource_logs = 1
    pos = writeVarint(buf, pos, resourceLens[gi] as number);
    const res = cached(resourceCache, g.resource, 0x0a);
    if (res.length > 0) {
      buf[pos++] = 0x0a; // resource = 1
      pos = writeVarint(buf, pos, res.length);
      pos += res.copy(buf, pos);
    }
    buf[pos++] = 0x12; // scope_logs = 2
    pos = writeVarint(buf, pos, scopeLens[gi] as number);
    for (const r of g.records) {
      buf[pos++] = 0x12; // log_records = 2
      pos = writeVarint(buf, pos, bodyLens[i++] as number);
      pos = writeRecord(buf, pos, r, observed);
    }
  }
  return buf;
}

function writeRecord(
  buf: Buffer,
  pos: number,
  r: OtlpLogRecord,
  observed: OtlpInstant,
): number {
  buf[pos++] = 0x09; // time_unix_nano = 1, fixed64
  pos = writeFixed64Nanos(buf, pos, r.timestampMs, r.timestampNanos);
  if (r.severityNumber !== 0) {
    buf[pos++] = 0x10; // severity_number = 2
    pos = writeVarint(buf, pos, r.severityNumber);
  }
  if (r.severityText !== undefined && r.severityText !== '') {
    const tb = strLen(r.severityText);
    buf[pos++] = 0x1a; // severity_text = 3
    pos = writeVarint(buf, pos, tb);
    pos = writeStr(buf, pos, r.severityText, tb);
  }
  buf[pos++] = 0x2a; // body = 5, AnyValue
  pos = writeVarint(buf, pos, fieldLen(r.lineBytes));
  buf[pos++] = 0x0a; // string_value = 1 (written even when empty: oneof)
  pos = writeVarint(buf, pos, r.lineBytes);
  pos = writeStr(buf, pos, r.line, r.lineBytes);
  pos += cached(recordAttrCache, r.shared, 0x32).copy(buf, pos);
  if (r.own !== undefined)
    for (const [k, v] of r.own) pos = writeKeyValue(buf, pos, 0x32, k, v);
  if (r.flags !== 0) {
    buf[pos++] = 0x45; // flags = 8, fixed32
    buf.writeUInt32LE(r.flags >>> 0, pos);
    pos += 4;
  }
  if (r.traceId !== undefined) {
    buf[pos++] = 0x4a; // trace_id = 9
    buf[pos++] = r.traceId.length;
    pos += r.traceId.copy(buf, pos);
  }
  if (r.spanId !== undefined) {
    buf[pos++] = 0x52; // span_id = 10
    buf[pos++] = r.spanId.length;
    pos += r.spanId.copy(buf, pos);
  }
  buf[pos++] = 0x59; // observed_time_unix_nano = 11, fixed64
  return writeFixed64Nanos(
    buf,
    pos,
    observed.timestampMs,
    observed.timestampNanos,
  );
}
