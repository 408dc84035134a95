import type { Position } from '@lc/core';
import { computeOffsetMarker } from '../file-identity.js';
import type { MarkerHandles } from './marker-handles.js';
import { isFilePosition } from './merge.js';

/** Files whose marker is read at once in one flush. */
const MARKER_CONCURRENCY = 32;

/**
 * The same positions, in order, with the offset marker (hash of the bytes
 * before the offset) of each file position that lacks one filled in where
 * it can be read. A file that is gone or unreadable keeps an empty marker
 * (resumed unverified) and is counted through `onUnreadable`.
 */
export async function fillMarkers(
  positions: readonly Position[],
  handles: MarkerHandles,
  markerBytes: number,
  onUnreadable: () => void,
): Promise<Position[]> {
  const withMarker = async (p: Position): Promise<Position> => {
    if (
      !isFilePosition(p) ||
      p.path === '' ||
      p.offset === 0 ||
      p.offsetMarker !== ''
    )
      return p;
    try {
      const marker = await handles.use(p, (handle) =>
        computeOffsetMarker(handle, p.offset, markerBytes),
      );
      return marker === undefined || marker === ''
        ? p
        : { ...p, offsetMarker: marker };
    } catch {
      onUnreadable();
      return p;
    }
  };
  const out: Position[] = [];
  for (let i = 0; i < positions.length; i += MARKER_CONCURRENCY) {
    const chunk = positions.slice(i, i + MARKER_CONCURRENCY);
    out.push(...(await Promise.all(chunk.map(withMarker))));
  }
  return out;
}
