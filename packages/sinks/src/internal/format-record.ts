import type { LogRecord } from '@lc/core';

/** How file, stdout and HTTP sinks serialise a record. */
export type LineFormat = 'json' | 'text';

/**
 * One record as a JSON object on one line:
 * `{"timestamp":"…Z","line":"…","labels":{…},"metadata":{…},"source":{…}}`.
 * `JSON.stringify` escapes newlines, so a record is always one line.
 */
export function formatJsonLine(record: LogRecord): string {
  let labels = labelsJson.get(record.labels);
  if (labels === undefined) {
    labels = JSON.stringify(record.labels);
    labelsJson.set(record.labels, labels);
  }
  let source = sourceJson.get(record.source);
  if (source === undefined) {
    source = `{"kind":${JSON.stringify(record.source.kind)},"id":${JSON.stringify(record.source.id)}}`;
    sourceJson.set(record.source, source);
  }
  let out = `{"timestamp":"${timestampText(record)}","line":${JSON.stringify(record.line)},"labels":${labels}`;
  if (record.metadata !== undefined)
    out += `,"metadata":${JSON.stringify(record.metadata)}`;
  return `${out},"source":${source}}`;
}

// Labels and sources are shared objects (see Labels): serialise each once.
const labelsJson = new WeakMap<object, string>();
const sourceJson = new WeakMap<object, string>();
let lastMs = Number.NaN;
let lastIso = '';

/** RFC 3339 with nanoseconds; the millisecond part is reused across records. */
function timestampText(record: LogRecord): string {
  if (record.timestampMs !== lastMs) {
    lastMs = record.timestampMs;
    lastIso = new Date(lastMs).toISOString().slice(0, 23);
  }
  return `${lastIso}${String(record.timestampNanos).padStart(6, '0')}Z`;
}

/**
 * The line itself; embedded `\r` and `\n` become spaces so one record
 * stays one line (a reader could not tell records apart otherwise).
 */
export function formatTextLine(record: LogRecord): string {
  const line = record.line;
  // indexOf is several times cheaper than a regex test on the hot path.
  return line.indexOf('\n') === -1 && line.indexOf('\r') === -1
    ? line
    : line.replace(/[\r\n]/g, ' ');
}

/** The formatter for `format`. */
export function lineFormatter(
  format: LineFormat,
): (record: LogRecord) => string {
  return format === 'json' ? formatJsonLine : formatTextLine;
}
