import type {
  ContainerCursor,
  ContainerPosition,
  Cursor,
  FileCursor,
  FilePosition,
  Position,
} from '@lc/core';

/** True for a well-formed `FileCursor`. */
export function isFileCursor(cursor: Cursor): cursor is FileCursor {
  if (typeof cursor !== 'object' || cursor === null || Array.isArray(cursor))
    return false;
  const c = cursor as Record<string, unknown>;
  return (
    Number.isSafeInteger(c.offset) &&
    (c.offset as number) >= 0 &&
    Number.isSafeInteger(c.line) &&
    (c.line as number) >= 0 &&
    (c.epoch === undefined ||
      (Number.isSafeInteger(c.epoch) && (c.epoch as number) >= 0))
  );
}

/** The epoch of a file position or cursor; absent means 0. */
export function epochOf(p: { readonly epoch?: number }): number {
  return p.epoch ?? 0;
}

/**
 * `p` with `epoch` set; the field is left out at 0 so positions that were
 * never reset keep their stored shape.
 */
export function withEpoch(p: FilePosition, epoch: number): FilePosition {
  if (epoch === epochOf(p)) return p;
  if (epoch === 0) {
    const { epoch: _dropped, ...rest } = p;
    return rest;
  }
  return { ...p, epoch };
}

/** True for a well-formed `ContainerCursor`. */
export function isContainerCursor(cursor: Cursor): cursor is ContainerCursor {
  if (typeof cursor !== 'object' || cursor === null || Array.isArray(cursor))
    return false;
  const c = cursor as Record<string, unknown>;
  return (
    typeof c.timestampNs === 'string' &&
    /^\d+$/.test(c.timestampNs) &&
    typeof c.lineHash === 'string' &&
    Number.isSafeInteger(c.linesAtTimestamp) &&
    (c.linesAtTimestamp as number) >= 0
  );
}

/**
 * Order of container watermarks: by timestamp, then by the number of lines
 * already delivered at that timestamp. `''` (nothing delivered) is lowest.
 */
export function compareContainerMarks(
  aNs: string,
  aLines: number,
  bNs: string,
  bLines: number,
): number {
  if (aNs !== bNs) {
    if (aNs === '') return -1;
    if (bNs === '') return 1;
    const a = BigInt(aNs);
    const b = BigInt(bNs);
    return a < b ? -1 : 1;
  }
  return aLines - bLines;
}

export function isFilePosition(p: Position | undefined): p is FilePosition {
  return p !== undefined && p.kind === 'file' && 'offset' in p;
}

export function isContainerPosition(
  p: Position | undefined,
): p is ContainerPosition {
  return p !== undefined && p.kind === 'container' && 'lastTimestampNs' in p;
}

/** A file position known only from a commit (the monitor never upserted it). */
export function bareFilePosition(id: string, nowMs: number): FilePosition {
  const [dev = '', ino = ''] = id.includes(':') ? id.split(':') : [];
  return {
    kind: 'file',
    id,
    path: '',
    dev,
    ino,
    fingerprint: '',
    fingerprintBytes: 0,
    offset: 0,
    offsetMarker: '',
    size: 0,
    mtimeMs: 0,
    lastReadAtMs: 0,
    logCount: 0,
    bytesRead: 0,
    status: 'active',
    updatedAtMs: nowMs,
  };
}

/** A container position known only from a commit. */
export function bareContainerPosition(
  id: string,
  nowMs: number,
): ContainerPosition {
  return {
    kind: 'container',
    id,
    name: '',
    image: '',
    lastTimestampNs: '',
    lastLineHash: '',
    linesAtLastTimestamp: 0,
    logCount: 0,
    bytesRead: 0,
    status: 'running',
    updatedAtMs: nowMs,
  };
}

/**
 * Eviction rank: lower goes first. Sources that are gone rank 0, idle ones
 * 1; active files and running containers are never evicted (`undefined`),
 * because dropping their position would re-read them from the start.
 */
export function evictionRank(p: Position): number | undefined {
  if (isFilePosition(p)) {
    if (p.status === 'active') return undefined;
    return p.status === 'idle' ? 1 : 0;
  }
  if (isContainerPosition(p)) {
    if (p.status === 'destroyed') return 0;
    if (p.status === 'stopped' || p.status === 'paused') return 1;
    return undefined;
  }
  return 0;
}

/** Gone for good: eligible for age-based cleanup. */
export function isGone(p: Position): boolean {
  return evictionRank(p) === 0;
}

/**
 * A file position with a new committed offset. Spelled out field by field:
 * object spread with overrides is several times slower in V8 and this runs
 * once per commit.
 */
export function fileWithOffset(
  b: FilePosition,
  offset: number,
  logCount: number,
  epoch: number,
  nowMs: number,
): FilePosition {
  const p: FilePosition = {
    kind: 'file',
    id: b.id,
    path: b.path,
    dev: b.dev,
    ino: b.ino,
    fingerprint: b.fingerprint,
    fingerprintBytes: b.fingerprintBytes,
    offset,
    offsetMarker: '',
    size: b.size,
    mtimeMs: b.mtimeMs,
    lastReadAtMs: b.lastReadAtMs,
    logCount,
    bytesRead: b.bytesRead + (offset - b.offset),
    status: b.status,
    updatedAtMs: nowMs,
  };
  return epoch === 0 ? p : withEpoch(p, epoch);
}

/** A container position with a new watermark (see {@link fileWithOffset}). */
export function containerWithMark(
  b: ContainerPosition,
  cursor: ContainerCursor,
  nowMs: number,
): ContainerPosition {
  return {
    kind: 'container',
    id: b.id,
    name: b.name,
    image: b.image,
    lastTimestampNs: cursor.timestampNs,
    lastLineHash: cursor.lineHash,
    linesAtLastTimestamp: cursor.linesAtTimestamp,
    logCount: b.logCount,
    bytesRead: b.bytesRead,
    status: b.status,
    updatedAtMs: nowMs,
  };
}
