import { LcError } from '@lc/core';
import type { LogRecord, PersistedBatch } from '@lc/core';
import {
  readRecords,
  recordBytesGuess,
  writeRecords,
} from '../record-codec.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';

/*
 * The batch WAL holds two kinds of entries, told apart by the first byte:
 *
 *   BATCH  1 | id | createdAtMs f64 | sinks (n, names) | records (codec v1)
 *   EVENT  2 | batchId | sink | kind u8 | attempt | atMs f64
 *            | nextAttemptAtMs f64 (NaN = none) | error code | error message
 *
 * A batch entry is acknowledged in the disk log, together with all its
 * events, once every sink has a DELIVERED or DEAD_LETTERED event. Events
 * are written before the in-memory state is trusted, so a crash at any
 * point replays to the same state (see createBatchPersistence).
 */

const TYPE_BATCH = 1;
const TYPE_EVENT = 2;

/** What happened to one (batch, sink) pair. */
export type WalEventKind = 'delivered' | 'failed' | 'dead-lettered';
const EVENT_KINDS: readonly WalEventKind[] = [
  'delivered',
  'failed',
  'dead-lettered',
];

/** Disk log `source` tags, so recovery can skip event-only segments. */
export const WAL_SOURCE_BATCH = 'batch';
export const WAL_SOURCE_EVENT = 'event';

/** The part of a batch entry needed to rebuild state, without the records. */
export interface WalBatchHeader {
  readonly type: 'batch';
  readonly id: string;
  readonly createdAtMs: number;
  readonly sinks: string[];
  /** Number of records in the entry. */
  readonly records: number;
}

/** One per-sink outcome. */
export interface WalEvent {
  readonly type: 'event';
  readonly batchId: string;
  readonly sink: string;
  readonly kind: WalEventKind;
  readonly attempt: number;
  readonly atMs: number;
  readonly nextAttemptAtMs?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Encode a batch entry. */
export function encodeBatchEntry(batch: PersistedBatch): Buffer {
  const w = new ByteWriter(recordBytesGuess(batch.records) + 128);
  w.u8(TYPE_BATCH);
  w.string(batch.id);
  w.f64(batch.createdAtMs);
  w.varUint(batch.sinks.length);
  for (const sink of batch.sinks) w.string(sink);
  writeRecords(w, batch.records);
  return w.finish();
}

/** Encode an event entry. */
export function encodeEventEntry(event: Omit<WalEvent, 'type'>): Buffer {
  const w = new ByteWriter(128);
  w.u8(TYPE_EVENT);
  w.string(event.batchId);
  w.string(event.sink);
  w.u8(EVENT_KINDS.indexOf(event.kind));
  w.varUint(event.attempt);
  w.f64(event.atMs);
  w.f64(event.nextAttemptAtMs ?? Number.NaN);
  w.string(event.error?.code ?? '');
  w.string(event.error?.message ?? '');
  return w.finish();
}

/**
 * Decode an entry's header; for a batch entry the records are skipped
 * (only their count is read), so rebuilding state stays cheap.
 */
export function decodeEntryHeader(payload: Buffer): WalBatchHeader | WalEvent {
  const r = new ByteReader(payload);
  const type = r.u8();
  if (type === TYPE_BATCH) {
    const id = r.string();
    const createdAtMs = r.f64();
    const n = r.varUint();
    const sinks: string[] = [];
    for (let i = 0; i < n; i++) sinks.push(r.string());
    r.u8(); // records format version
    const records = r.varUint();
    return { type: 'batch', id, createdAtMs, sinks, records };
  }
  if (type === TYPE_EVENT) {
    const batchId = r.string();
    const sink = r.string();
    const kind = EVENT_KINDS[r.u8()];
    if (kind === undefined) throw corrupt('unknown event kind');
    const attempt = r.varUint();
    const atMs = r.f64();
    const next = r.f64();
    const code = r.string();
    const message = r.string();
    const event: {
      -readonly [K in keyof WalEvent]: WalEvent[K];
    } = { type: 'event', batchId, sink, kind, attempt, atMs };
    if (!Number.isNaN(next)) event.nextAttemptAtMs = next;
    if (code !== '') event.error = { code, message };
    return event;
  }
  throw corrupt(`unknown WAL entry type ${type}`);
}

/** Decode a whole batch entry, records included. */
export function decodeBatchEntry(payload: Buffer): PersistedBatch {
  const r = new ByteReader(payload);
  if (r.u8() !== TYPE_BATCH) throw corrupt('not a batch entry');
  const id = r.string();
  const createdAtMs = r.f64();
  const n = r.varUint();
  const sinks: string[] = [];
  for (let i = 0; i < n; i++) sinks.push(r.string());
  const records: LogRecord[] = readRecords(r);
  return { id, createdAtMs, sinks, records };
}

function corrupt(message: string): LcError {
  return new LcError({
    code: 'LC_ERR_BUFFER_CORRUPT',
    message: `batch WAL: ${message}`,
  });
}
