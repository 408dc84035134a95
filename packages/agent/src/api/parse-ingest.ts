import type { LogRecord } from '@lc/core';
import { freezeLabels, parseRfc3339Nano, timestampFromMs } from '@lc/core';

/** Result of parsing an ingest body. */
export type IngestParse =
  | { readonly ok: true; readonly records: LogRecord[] }
  | {
      readonly ok: false;
      readonly status: 400 | 413;
      readonly errors: string[];
    };

const MAX_REPORTED_ERRORS = 20;
const SOURCE = Object.freeze({ kind: 'http', id: 'http-ingest' });

/**
 * Parse `POST /api/v1/logs`: a JSON array of entries, one JSON entry, or
 * NDJSON (one entry per line). An entry is `{message|line: string,
 * labels?: {string: string}, timestamp?: RFC 3339 string | epoch ms,
 * metadata?: {string: string}}`. All entries are validated before any is
 * accepted, so a 400 means nothing was ingested.
 */
export function parseIngest(
  body: unknown,
  options: {
    maxRecords: number;
    labels: Readonly<Record<string, string>>;
    nowMs: number;
  },
): IngestParse {
  let items: unknown[];
  const errors: string[] = [];
  if (typeof body === 'string') {
    items = [];
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const text = (lines[i] as string).trim();
      if (text === '') continue;
      try {
        items.push(JSON.parse(text));
      } catch (error) {
        errors.push(
          `line ${i + 1}: invalid JSON (${(error as Error).message})`,
        );
        if (errors.length >= MAX_REPORTED_ERRORS) break;
      }
    }
  } else if (Array.isArray(body)) {
    items = body;
  } else if (typeof body === 'object' && body !== null) {
    items = [body];
  } else {
    return {
      ok: false,
      status: 400,
      errors: ['expected a JSON array of entries, one entry, or NDJSON'],
    };
  }
  if (errors.length > 0) return { ok: false, status: 400, errors };
  if (items.length > options.maxRecords) {
    return {
      ok: false,
      status: 413,
      errors: [
        `too many records: ${items.length} > ${options.maxRecords} (api.max_records_per_request)`,
      ],
    };
  }
  if (items.length === 0)
    return { ok: false, status: 400, errors: ['no entries in the body'] };
  const records: LogRecord[] = [];
  const labelCache = new Map<string, Readonly<Record<string, string>>>();
  const baseLabels = freezeLabels({ ...options.labels });
  for (
    let i = 0;
    i < items.length && errors.length < MAX_REPORTED_ERRORS;
    i++
  ) {
    const item = items[i];
    const at = `[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`${at}: expected an object with "message"`);
      continue;
    }
    const e = item as Record<string, unknown>;
    const line = e['message'] ?? e['line'];
    if (typeof line !== 'string') {
      errors.push(
        `${at}.message: expected a string, got ${line === undefined ? 'nothing' : typeof line}`,
      );
      continue;
    }
    let labels = baseLabels;
    if (e['labels'] !== undefined) {
      const l = e['labels'];
      if (
        typeof l !== 'object' ||
        l === null ||
        Array.isArray(l) ||
        Object.values(l).some((v) => typeof v !== 'string')
      ) {
        errors.push(`${at}.labels: expected a map of strings`);
        continue;
      }
      const key = JSON.stringify(l);
      let cached = labelCache.get(key);
      if (cached === undefined) {
        cached = freezeLabels({
          ...options.labels,
          ...(l as Record<string, string>),
        });
        labelCache.set(key, cached);
      }
      labels = cached;
    }
    let ts = timestampFromMs(options.nowMs);
    const t = e['timestamp'];
    if (typeof t === 'number' && Number.isFinite(t)) ts = timestampFromMs(t);
    else if (typeof t === 'string') {
      try {
        ts = parseRfc3339Nano(t);
      } catch {
        errors.push(
          `${at}.timestamp: expected RFC 3339 or epoch milliseconds, got ${JSON.stringify(t)}`,
        );
        continue;
      }
    } else if (t !== undefined) {
      errors.push(`${at}.timestamp: expected RFC 3339 or epoch milliseconds`);
      continue;
    }
    const m = e['metadata'];
    if (
      m !== undefined &&
      (typeof m !== 'object' ||
        m === null ||
        Object.values(m).some((v) => typeof v !== 'string'))
    ) {
      errors.push(`${at}.metadata: expected a map of strings`);
      continue;
    }
    records.push({
      line,
      labels,
      source: SOURCE,
      ...ts,
      ...(m === undefined ? {} : { metadata: m as Record<string, string> }),
    });
  }
  if (errors.length > 0) return { ok: false, status: 400, errors };
  return { ok: true, records };
}
