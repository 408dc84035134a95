// Streaming reads: segment by segment, frame by frame, skipping segments
// (and, via the sparse index, parts of segments) that cannot match.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import type { DiskLogEntry, DiskLogReadOptions } from '../disk-log.js';
import type { DiskLogImpl } from './disk-log-impl.js';
import { quarantineRange } from './quarantine.js';
import { decodeFrame, frameRange, scanSegment } from './record-codec.js';
import { SEGMENT_HEADER_BYTES } from './segment-file.js';
import { seekOffset, type SegmentMeta } from './segment-meta.js';

function segmentCanMatch(seg: SegmentMeta, o: DiskLogReadOptions): boolean {
  if (seg.count === 0) return false;
  if (o.fromTimestampMs !== undefined && seg.maxTs < o.fromTimestampMs)
    return false;
  if (o.toTimestampMs !== undefined && seg.minTs > o.toTimestampMs)
    return false;
  if (
    o.source !== undefined &&
    seg.sources !== null &&
    !seg.sources.has(o.source)
  )
    return false;
  return true;
}

function entryMatches(e: DiskLogEntry, o: DiskLogReadOptions): boolean {
  if (o.fromTimestampMs !== undefined && e.timestampMs < o.fromTimestampMs)
    return false;
  if (o.toTimestampMs !== undefined && e.timestampMs > o.toTimestampMs)
    return false;
  if (o.source !== undefined && (e.source ?? '') !== o.source) return false;
  return true;
}

export async function* readLog(
  log: DiskLogImpl,
  o: DiskLogReadOptions,
): AsyncGenerator<DiskLogEntry> {
  log.assertOpen();
  const includeAcked = o.includeAcknowledged === true;
  const untilSeq = log.nextSeq; // records appended after this are not included
  let cursor = o.fromSeq ?? 0;
  let readN = 0;
  let readBytes = 0;
  try {
    while (cursor < untilSeq) {
      const seg = log.segments.find((s) => s.lastSeq >= cursor);
      if (seg === undefined) return;
      // Snapshot: the active segment may grow while we read it.
      const end = seg.bytes;
      const lastSeq = seg.lastSeq;
      const segStart = Math.max(cursor, seg.firstSeq);
      const startSeq = includeAcked ? segStart : log.acks.nextUnacked(segStart);
      if (startSeq > lastSeq || !segmentCanMatch(seg, o)) {
        cursor = lastSeq + 1;
        continue;
      }
      let handle: FileHandle;
      try {
        handle = await open(join(log.opts.directory, seg.name), 'r');
      } catch {
        cursor = lastSeq + 1; // deleted meanwhile (fully acknowledged)
        continue;
      }
      try {
        const from = seekOffset(seg, startSeq, SEGMENT_HEADER_BYTES);
        let lastSeen = from.seq - 1;
        let gap = false;
        for await (const item of scanSegment(handle, from.offset, end)) {
          if (item.kind === 'corrupt') {
            const q = await quarantineRange(
              log.opts.directory,
              seg.name,
              handle,
              item.from,
              item.to,
              item.reason,
            );
            if (q.bytes > 0) {
              log.reportCorruption(
                item.reason,
                {
                  segment: seg.name,
                  from: item.from,
                  to: item.to,
                  quarantine: q.path,
                },
                q.bytes,
              );
            }
            gap = true;
            continue;
          }
          const range = frameRange(item);
          if (gap) log.markLostIn(log.acks, lastSeen + 1, range.firstSeq - 1);
          gap = false;
          lastSeen = Math.max(lastSeen, range.lastSeq);
          if (range.lastSeq < startSeq) continue;
          if (
            o.fromTimestampMs !== undefined &&
            range.maxTs < o.fromTimestampMs
          )
            continue;
          if (o.toTimestampMs !== undefined && range.minTs > o.toTimestampMs)
            continue;
          let entries: DiskLogEntry[];
          try {
            entries = decodeFrame(item, log.opts.encryptionKey);
          } catch (error) {
            const q = await quarantineRange(
              log.opts.directory,
              seg.name,
              handle,
              item.offset,
              item.offset + item.frame.length,
              'bad-block',
            );
            if (q.bytes > 0) {
              log.reportCorruption(
                'bad-block',
                { segment: seg.name, from: item.offset, quarantine: q.path },
                q.bytes,
              );
              log.opts.onError(
                LcError.isInstance(error)
                  ? error
                  : new LcError({
                      code: 'LC_ERR_BUFFER_CORRUPT',
                      message: 'bad buffer block',
                      cause: error,
                    }),
              );
            }
            log.markLostIn(log.acks, range.firstSeq, range.lastSeq);
            continue;
          }
          for (const e of entries) {
            if (e.seq < cursor || e.seq < startSeq || e.seq >= untilSeq)
              continue;
            if (!includeAcked && log.acks.has(e.seq)) continue;
            if (!entryMatches(e, o)) continue;
            cursor = e.seq + 1;
            readN++;
            readBytes += e.payload.length;
            if (readN >= 1024) {
              log.noteRead(readN, readBytes);
              readN = 0;
              readBytes = 0;
            }
            yield e;
          }
        }
        if (gap) log.markLostIn(log.acks, lastSeen + 1, lastSeq);
      } finally {
        await handle.close();
      }
      cursor = Math.max(cursor, lastSeq + 1);
    }
  } finally {
    log.noteRead(readN, readBytes);
  }
}
