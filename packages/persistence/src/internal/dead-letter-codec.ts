import { LcError } from '@lc/core';
import type { DeadLetterEntry, DeadLetterFilter } from '@lc/core';
import { readRecords, writeRecords } from '../record-codec.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';

const DLQ_FORMAT_VERSION = 1;
const STATUS_NONE = 0;
const STATUS_NUMBER = 1;
const STATUS_STRING = 2;

/** Encode one dead-letter entry (format version 1). */
export function encodeDeadLetter(entry: DeadLetterEntry): Buffer {
  const w = new ByteWriter(256 + entry.record.line.length * 3);
  w.u8(DLQ_FORMAT_VERSION);
  w.string(entry.id);
  w.string(entry.sink);
  w.string(entry.reason.code);
  w.string(entry.reason.message);
  const status = entry.reason.status;
  if (status === undefined) {
    w.u8(STATUS_NONE);
  } else if (typeof status === 'number') {
    w.u8(STATUS_NUMBER);
    w.f64(status);
  } else {
    w.u8(STATUS_STRING);
    w.string(status);
  }
  w.varUint(entry.attempts);
  w.f64(entry.firstFailureAtMs);
  w.f64(entry.lastFailureAtMs);
  writeRecords(w, [entry.record]);
  return w.finish();
}

/** Decode {@link encodeDeadLetter}'s output. */
export function decodeDeadLetter(buf: Buffer): DeadLetterEntry {
  const r = new ByteReader(buf);
  const version = r.u8();
  if (version !== DLQ_FORMAT_VERSION) {
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `dead-letter store: unknown entry version ${version}`,
    });
  }
  const id = r.string();
  const sink = r.string();
  const code = r.string();
  const message = r.string();
  const statusTag = r.u8();
  const status =
    statusTag === STATUS_NUMBER
      ? r.f64()
      : statusTag === STATUS_STRING
        ? r.string()
        : undefined;
  const attempts = r.varUint();
  const firstFailureAtMs = r.f64();
  const lastFailureAtMs = r.f64();
  const [record] = readRecords(r);
  if (record === undefined) {
    throw new LcError({
      code: 'LC_ERR_BUFFER_CORRUPT',
      message: `dead-letter store: entry ${id} has no record`,
    });
  }
  return {
    id,
    record,
    sink,
    reason:
      status === undefined ? { code, message } : { code, message, status },
    attempts,
    firstFailureAtMs,
    lastFailureAtMs,
  };
}

/** Whether `entry` matches every field given in `filter`. */
export function matchesFilter(
  entry: DeadLetterEntry,
  filter: DeadLetterFilter,
): boolean {
  if (filter.sink !== undefined && entry.sink !== filter.sink) return false;
  if (filter.code !== undefined && entry.reason.code !== filter.code)
    return false;
  if (filter.sinceMs !== undefined && entry.lastFailureAtMs < filter.sinceMs)
    return false;
  if (filter.untilMs !== undefined && entry.lastFailureAtMs >= filter.untilMs)
    return false;
  return true;
}
