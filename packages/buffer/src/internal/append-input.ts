// Validation of append input, once per record, before it is queued.
import { LcError } from '@lc/core';
import type { DiskLogAppendInput } from '../disk-log.js';
import { framedSize } from './record-codec.js';
import { SEGMENT_HEADER_BYTES } from './segment-file.js';

const MAX_SOURCE_BYTES = 65_535;

/** A validated record waiting for its seq. */
export interface QueuedRecord {
  payload: Uint8Array;
  timestampMs: number;
  source: Buffer | undefined;
  sourceText: string | undefined;
  frameBytes: number;
}

/**
 * Validate and pre-encode `entries`; throws `LcError`
 * (`LC_ERR_INVALID_INPUT`, `LC_ERR_RECORD_TOO_LARGE`).
 */
export function prepareAppendInput(
  entries: ReadonlyArray<DiskLogAppendInput>,
  nowMs: number,
  maxSegmentBytes: number,
): { records: QueuedRecord[]; bytes: number } {
  const records: QueuedRecord[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (!(e.payload instanceof Uint8Array)) {
      throw new LcError({
        code: 'LC_ERR_INVALID_INPUT',
        message: 'disk log payload must be a Uint8Array',
      });
    }
    const ts = e.timestampMs ?? nowMs;
    if (!Number.isSafeInteger(ts) || ts < 0) {
      throw new LcError({
        code: 'LC_ERR_INVALID_INPUT',
        message: `disk log timestampMs must be a non-negative integer, got ${ts}`,
      });
    }
    const source =
      e.source === undefined || e.source === ''
        ? undefined
        : Buffer.from(e.source, 'utf8');
    if (source !== undefined && source.length > MAX_SOURCE_BYTES) {
      throw new LcError({
        code: 'LC_ERR_INVALID_INPUT',
        message: 'disk log source tag exceeds 65535 bytes',
      });
    }
    const size = framedSize({ payload: e.payload, source });
    if (size + SEGMENT_HEADER_BYTES > maxSegmentBytes) {
      throw new LcError({
        code: 'LC_ERR_RECORD_TOO_LARGE',
        message: `disk log record of ${e.payload.length} bytes does not fit a segment of maxSegmentBytes=${maxSegmentBytes}`,
        details: { bytes: e.payload.length, maxSegmentBytes },
      });
    }
    bytes += size;
    records.push({
      payload: e.payload,
      timestampMs: ts,
      source,
      sourceText: source === undefined ? undefined : e.source,
      frameBytes: size,
    });
  }
  return { records, bytes };
}
