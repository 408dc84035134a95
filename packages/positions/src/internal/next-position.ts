import type {
  ContainerPosition,
  Cursor,
  FilePosition,
  Position,
  SourceRef,
} from '@lc/core';
import {
  bareContainerPosition,
  bareFilePosition,
  compareContainerMarks,
  containerWithMark,
  epochOf,
  fileWithOffset,
  isContainerCursor,
  isContainerPosition,
  isFileCursor,
  isFilePosition,
  withEpoch,
} from './merge.js';

/**
 * The position after committing `cursor` on `existing`: the new position,
 * `'stale'` when it would not move forward (or is of an older epoch than a
 * file position's), or `'malformed'` for a file/container cursor of the
 * wrong shape. Other kinds take any cursor.
 */
export function applyCursor(
  existing: Position | undefined,
  source: SourceRef,
  cursor: Cursor,
  nowMs: number,
): Position | 'stale' | 'malformed' {
  if (source.kind === 'file') {
    if (!isFileCursor(cursor)) return 'malformed';
    const base = isFilePosition(existing)
      ? existing
      : bareFilePosition(source.id, nowMs);
    const epoch = epochOf(cursor);
    const stale =
      existing !== undefined &&
      (epoch < epochOf(base) ||
        (epoch === epochOf(base) && cursor.offset <= base.offset));
    return stale
      ? 'stale'
      : fileWithOffset(base, cursor.offset, cursor.line, epoch, nowMs);
  }
  if (source.kind === 'container') {
    if (!isContainerCursor(cursor)) return 'malformed';
    const base = isContainerPosition(existing)
      ? existing
      : bareContainerPosition(source.id, nowMs);
    const newer =
      existing === undefined ||
      compareContainerMarks(
        cursor.timestampNs,
        cursor.linesAtTimestamp,
        base.lastTimestampNs,
        base.linesAtLastTimestamp,
      ) > 0;
    return newer ? containerWithMark(base, cursor, nowMs) : 'stale';
  }
  return { kind: source.kind, id: source.id, cursor, updatedAtMs: nowMs };
}

/**
 * `existing` moved back to its start: a file to offset 0 in the next
 * epoch, a container to no timestamp, another kind to a null cursor.
 */
export function resetPosition(existing: Position, nowMs: number): Position {
  if (isFilePosition(existing)) {
    return {
      ...existing,
      offset: 0,
      offsetMarker: '',
      logCount: 0,
      epoch: epochOf(existing) + 1,
      updatedAtMs: nowMs,
    };
  }
  if (isContainerPosition(existing)) {
    return {
      ...existing,
      lastTimestampNs: '',
      lastLineHash: '',
      linesAtLastTimestamp: 0,
      updatedAtMs: nowMs,
    };
  }
  return {
    kind: existing.kind,
    id: existing.id,
    cursor: null,
    updatedAtMs: nowMs,
  };
}

/**
 * A monitor's view of a file merged over what is known: the committed
 * offset, marker, counters and epoch are kept (only commit and reset move
 * them); everything else comes from `p`.
 */
export function mergeFileUpsert(
  existing: Position | undefined,
  p: FilePosition,
  nowMs: number,
): FilePosition {
  if (!isFilePosition(existing)) return { ...p, updatedAtMs: nowMs };
  return withEpoch(
    {
      ...p,
      offset: existing.offset,
      offsetMarker: existing.offsetMarker,
      logCount: existing.logCount,
      bytesRead: existing.bytesRead,
      updatedAtMs: nowMs,
    },
    epochOf(existing),
  );
}

/** Same as {@link mergeFileUpsert} for containers (the committed mark is kept). */
export function mergeContainerUpsert(
  existing: Position | undefined,
  p: ContainerPosition,
  nowMs: number,
): ContainerPosition {
  if (!isContainerPosition(existing)) return { ...p, updatedAtMs: nowMs };
  return {
    ...p,
    lastTimestampNs: existing.lastTimestampNs,
    lastLineHash: existing.lastLineHash,
    linesAtLastTimestamp: existing.linesAtLastTimestamp,
    updatedAtMs: nowMs,
  };
}
