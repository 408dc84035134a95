import { formatRfc3339Nano } from '@lc/core';
import type { LogRecord } from '@lc/core';

/** How file, stdout and HTTP sinks serialise a record. */
export type LineFormat = 'json' | 'text';

/**
 * One record as a JSON object on one line:
 * `{"timestamp":"…Z","line":"…","labels":{…},"metadata":{…},"source":{…}}`.
 * `JSON.stringify` escapes newlines, so a record is always one line.
 */
export function formatJsonLine(record: LogRecord): string {
  let out = `{"timestamp":"${formatRfc3339Nano(record)}","line":${JSON.stringify(record.line)},"labels":${JSON.stringify(record.labels)}`;
  if (record.metadata !== undefined)
    out += `,"metadata":${JSON.stringify(record.metadata)}`;
  out += `,"source":{"kind":${JSON.stringify(record.source.kind)},"id":${JSON.stringify(record.source.id)}}}`;
  return out;
}

/**
 * The line itself; embedded `\r` and `\n` become spaces so one record
 * stays one line (a reader could not tell records apart otherwise).
 */
export function formatTextLine(record: LogRecord): string {
  return /[\r\n]/.test(record.line)
    ? record.line.replace(/[\r\n]/g, ' ')
    : record.line;
}

/** The formatter for `format`. */
export function lineFormatter(
  format: LineFormat,
): (record: LogRecord) => string {
  return format === 'json' ? formatJsonLine : formatTextLine;
}
