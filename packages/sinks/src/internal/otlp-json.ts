/**
 * OTLP/JSON encoding of `ExportLogsServiceRequest` (the OTLP spec's JSON
 * mapping: lowerCamelCase field names, 64-bit integers as decimal strings,
 * enums as integers, trace and span ids as hex strings, not base64).
 * Records are rendered one by one so requests can be split by size;
 * attribute sets shared by many records are rendered once.
 */
import { formatTimestampNs } from '@lc/core';
import type {
  OtlpAttributeSet,
  OtlpInstant,
  OtlpKeyValue,
  OtlpLogRecord,
} from './otlp-proto.js';

function pairJson([key, value]: OtlpKeyValue): string {
  return `{"key":${JSON.stringify(key)},"value":{"stringValue":${JSON.stringify(value)}}}`;
}

const setCache = new WeakMap<OtlpAttributeSet, string>();

function setJson(set: OtlpAttributeSet): string {
  let json = setCache.get(set);
  if (json === undefined) {
    json = set.pairs.map(pairJson).join(',');
    setCache.set(set, json);
  }
  return json;
}

function nanos(ts: OtlpInstant): string {
  return ts.timestampMs < 0 ? '0' : formatTimestampNs(ts);
}

/** One LogRecord as a JSON object text. */
export function logRecordJson(r: OtlpLogRecord, observed: OtlpInstant): string {
  let out = `{"timeUnixNano":"${nanos(r)}","observedTimeUnixNano":"${nanos(observed)}"`;
  if (r.severityNumber !== 0) out += `,"severityNumber":${r.severityNumber}`;
  if (r.severityText !== undefined && r.severityText !== '')
    out += `,"severityText":${JSON.stringify(r.severityText)}`;
  out += `,"body":{"stringValue":${JSON.stringify(r.line)}}`;
  const shared = setJson(r.shared);
  const own = r.own === undefined ? '' : r.own.map(pairJson).join(',');
  if (shared !== '' || own !== '')
    out += `,"attributes":[${shared}${shared !== '' && own !== '' ? ',' : ''}${own}]`;
  if (r.flags !== 0) out += `,"flags":${r.flags >>> 0}`;
  if (r.traceId !== undefined)
    out += `,"traceId":"${r.traceId.toString('hex')}"`;
  if (r.spanId !== undefined) out += `,"spanId":"${r.spanId.toString('hex')}"`;
  return `${out}}`;
}

/** Bytes a resource adds to a JSON request besides its records. */
export function resourceJsonBytes(resource: OtlpAttributeSet): number {
  return Buffer.byteLength(setJson(resource)) + 64;
}

/** Records of one resource, already rendered by {@link logRecordJson}. */
export interface OtlpJsonGroup {
  readonly resource: OtlpAttributeSet;
  readonly records: readonly string[];
}

/** The request body: one ResourceLogs per group, one ScopeLogs each. */
export function encodeExportLogsJson(groups: readonly OtlpJsonGroup[]): string {
  const parts: string[] = [];
  for (const g of groups) {
    const res = setJson(g.resource);
    parts.push(
      `{${res === '' ? '' : `"resource":{"attributes":[${res}]},`}"scopeLogs":[{"logRecords":[${g.records.join(',')}]}]}`,
    );
  }
  return `{"resourceLogs":[${parts.join(',')}]}`;
}
