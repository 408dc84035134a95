import type { Cursor, CursorCommitter, LogRecord, SourceRef } from '@lc/core';

/** Per-source state: records in arrival order, settled or not. */
export interface AckSource {
  readonly ref: SourceRef;
  readonly key: string;
  /** Tracked records in arrival order; `head` is the first unsettled one. */
  pending: AckItem[];
  head: number;
  nextSeq: number;
  /** Sequence number of the last record of the settled prefix (-1: none). */
  settledSeq: number;
  removed: boolean;
}

/** One tracked record: settled once `remaining` reaches zero. */
export interface AckItem {
  readonly source: AckSource;
  /** Arrival sequence number within the source. */
  readonly seq: number;
  readonly cursor: Cursor | undefined;
  /** Sinks (or other holders) that still have to settle this record. */
  remaining: number;
  /**
   * Held durably by lc (in the batch WAL or the disk spill): the watermark
   * may pass it before it is settled, since a restart delivers it from
   * there rather than from its source.
   */
  safe?: boolean;
}

/** Options for {@link createAckTracker}. */
export interface AckTrackerOptions {
  /** Receives the watermark; `undefined` tracks without committing. */
  committer?: CursorCommitter;
  /** Called when `committer.commit` throws. */
  onError?: (error: unknown) => void;
}

/**
 * Orders settlements per source: the committed cursor is always the cursor
 * of the last record of an unbroken settled prefix, whatever the order in
 * which records settle.
 */
export interface AckTracker {
  /** Start tracking `record`, which `holders` parties must settle. */
  track(record: Pick<LogRecord, 'source' | 'cursor'>, holders: number): AckItem;
  /**
   * One holder settled `item`. Returns true when this made the record fully
   * settled. The watermark moves on the next {@link AckTracker.flush}, so a
   * batch of settlements costs one commit per source, not one per record.
   */
  settle(item: AckItem): boolean;
  /**
   * `items` are held durably (WAL, disk spill): the watermark may pass
   * them before they settle. Moves on the next {@link AckTracker.flush}.
   */
  markSafe(items: readonly AckItem[]): void;
  /** Advance the watermark of every source touched since the last flush. */
  flush(): void;
  /** Commit the current watermark of every source again. */
  commitAll(): void;
  /** Unsettled records across all sources. */
  readonly unsettled: number;
  /** Sources with unsettled records. */
  readonly sources: number;
}

const COMPACT_MIN = 1024;

/** Create an {@link AckTracker}. */
export function createAckTracker(options: AckTrackerOptions = {}): AckTracker {
  const { committer, onError } = options;
  const byKey = new Map<string, AckSource>();
  // Sources reuse one SourceRef object per source: a cheap first lookup.
  const byRef = new WeakMap<SourceRef, AckSource>();
  let unsettled = 0;
  const dirty = new Set<AckSource>();
  const lastCommitted = new WeakMap<AckSource, Cursor>();

  // Consecutive records usually come from the same source.
  let lastRef: SourceRef | undefined;
  let lastState: AckSource | undefined;
  const sourceFor = (ref: SourceRef): AckSource => {
    if (ref === lastRef && lastState !== undefined && !lastState.removed)
      return lastState;
    const state = lookup(ref);
    lastRef = ref;
    lastState = state;
    return state;
  };
  const lookup = (ref: SourceRef): AckSource => {
    const cached = byRef.get(ref);
    if (cached !== undefined && !cached.removed) return cached;
    const key = `${ref.kind}\u0000${ref.id}`;
    let state = byKey.get(key);
    if (state === undefined) {
      state = {
        ref: { kind: ref.kind, id: ref.id },
        key,
        pending: [],
        head: 0,
        nextSeq: 0,
        settledSeq: -1,
        removed: false,
      };
      byKey.set(key, state);
    }
    byRef.set(ref, state);
    return state;
  };

  const commit = (source: AckSource, cursor: Cursor): void => {
    if (committer === undefined) return;
    lastCommitted.set(source, cursor);
    try {
      committer.commit(source.ref, cursor);
    } catch (error) {
      onError?.(error);
    }
  };

  const advance = (source: AckSource): void => {
    const pending = source.pending;
    let head = source.head;
    let cursor: Cursor | undefined;
    while (head < pending.length) {
      const item = pending[head] as AckItem;
      if (item.remaining > 0 && item.safe !== true) break;
      if (item.cursor !== undefined) {
        // The last cursor of an epoch goes on its own: it belongs to other
        // content (a copytruncate copy), which a later epoch's commit skips.
        if (cursor !== undefined && epochOf(cursor) !== epochOf(item.cursor))
          commit(source, cursor);
        cursor = item.cursor;
      }
      source.settledSeq = item.seq;
      head++;
    }
    if (head === pending.length) {
      // Drained: forget the source so finished files and containers do
      // not accumulate state.
      source.pending = [];
      source.head = 0;
      source.removed = true;
      byKey.delete(source.key);
    } else if (head >= COMPACT_MIN && head * 2 >= pending.length) {
      source.pending = pending.slice(head);
      source.head = 0;
    } else {
      source.head = head;
    }
    if (cursor !== undefined) commit(source, cursor);
  };

  return {
    track(record, holders) {
      const source = sourceFor(record.source);
      const item: AckItem = {
        source,
        seq: source.nextSeq++,
        cursor: record.cursor,
        remaining: holders,
      };
      unsettled++;
      if (holders > 0) {
        source.pending.push(item);
        return item;
      }
      // Nothing to wait for (dropped, deduplicated): settled on arrival,
      // but only behind everything before it.
      unsettled--;
      if (source.head === source.pending.length) {
        source.settledSeq = item.seq;
        if (item.cursor !== undefined) commit(source, item.cursor);
        source.removed = true;
        byKey.delete(source.key);
      } else {
        source.pending.push(item);
      }
      return item;
    },
    settle(item) {
      if (item.remaining <= 0) return false;
      item.remaining--;
      if (item.remaining > 0) return false;
      unsettled--;
      const source = item.source;
      if (source.pending[source.head] === item) dirty.add(source);
      return true;
    },
    markSafe(items) {
      for (const item of items) {
        if (item.safe === true || item.remaining <= 0) continue;
        item.safe = true;
        const source = item.source;
        if (!source.removed && source.pending[source.head] === item)
          dirty.add(source);
      }
    },
    flush() {
      if (dirty.size === 0) return;
      for (const source of dirty) advance(source);
      dirty.clear();
    },
    commitAll() {
      for (const source of byKey.values()) {
        const cursor = lastCommitted.get(source);
        if (cursor !== undefined) commit(source, cursor);
      }
    },
    get unsettled() {
      return unsettled;
    },
    get sources() {
      return byKey.size;
    },
  };
}

/** The `epoch` of a file cursor (absent: 0); 0 for other cursors. */
function epochOf(cursor: Cursor): number {
  if (typeof cursor !== 'object' || cursor === null || Array.isArray(cursor))
    return 0;
  const epoch = (cursor as { epoch?: unknown }).epoch;
  return typeof epoch === 'number' ? epoch : 0;
}
