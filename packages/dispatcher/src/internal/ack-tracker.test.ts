import { fc, test } from '@fast-check/vitest';
import type { Cursor, LogRecord, SourceRef } from '@lc/core';
import { EMPTY_LABELS } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { createAckTracker } from './ack-tracker.js';
import type { AckItem } from './ack-tracker.js';

const SOURCES: SourceRef[] = [
  { kind: 'file', id: 'a' },
  { kind: 'file', id: 'b' },
  { kind: 'container', id: 'c' },
];

function record(source: SourceRef, n: number, withCursor: boolean): LogRecord {
  return {
    line: `line ${n}`,
    labels: EMPTY_LABELS,
    timestampMs: n,
    timestampNanos: 0,
    source,
    ...(withCursor ? { cursor: { offset: n, line: n } } : {}),
  };
}

function recordingCommitter(): {
  commits: Map<string, Cursor[]>;
  commit: (s: SourceRef, c: Cursor) => void;
} {
  const commits = new Map<string, Cursor[]>();
  return {
    commits,
    commit(source, cursor) {
      const key = `${source.kind}:${source.id}`;
      const list = commits.get(key) ?? [];
      list.push(cursor);
      commits.set(key, list);
    },
  };
}

describe('createAckTracker', () => {
  describe('settle', () => {
    it('should commit the last cursor of each epoch on its own when settlements coalesce', () => {
      const committer = recordingCommitter();
      const tracker = createAckTracker({ committer });
      const src = SOURCES[0] as SourceRef;
      const cursors: Cursor[] = [
        { offset: 10, line: 1 },
        { offset: 20, line: 2 }, // read before a copytruncate (epoch 0)
        { offset: 5, line: 1, epoch: 1 }, // the new content
        { offset: 9, line: 2, epoch: 1 },
      ];
      const items = cursors.map((cursor, n) =>
        tracker.track({ ...record(src, n, false), cursor }, 1),
      );
      for (const item of items) tracker.settle(item);
      tracker.flush();
      expect(committer.commits.get('file:a')).toEqual([
        { offset: 20, line: 2 },
        { offset: 9, line: 2, epoch: 1 },
      ]);
    });

    it('should not move the watermark past an unsettled earlier record', () => {
      const committer = recordingCommitter();
      const tracker = createAckTracker({ committer });
      const src = SOURCES[0] as SourceRef;
      const items = [1, 2, 3].map((n) =>
        tracker.track(record(src, n, true), 1),
      );
      tracker.settle(items[2] as AckItem);
      tracker.settle(items[1] as AckItem);
      tracker.flush();
      expect(committer.commits.size).toBe(0);
      tracker.settle(items[0] as AckItem);
      expect(committer.commits.size).toBe(0);
      tracker.flush();
      expect(committer.commits.get('file:a')).toEqual([{ offset: 3, line: 3 }]);
      expect(tracker.unsettled).toBe(0);
      expect(tracker.sources).toBe(0);
    });

    it('should wait for every holder of a record', () => {
      const committer = recordingCommitter();
      const tracker = createAckTracker({ committer });
      const item = tracker.track(record(SOURCES[0] as SourceRef, 1, true), 2);
      expect(tracker.settle(item)).toBe(false);
      tracker.flush();
      expect(committer.commits.size).toBe(0);
      expect(tracker.settle(item)).toBe(true);
      tracker.flush();
      expect(committer.commits.get('file:a')).toHaveLength(1);
    });

    it('should report committer errors instead of throwing', () => {
      const errors: unknown[] = [];
      const tracker = createAckTracker({
        committer: {
          commit() {
            throw new Error('boom');
          },
        },
        onError: (e) => errors.push(e),
      });
      const item = tracker.track(record(SOURCES[0] as SourceRef, 1, true), 1);
      tracker.settle(item);
      tracker.flush();
      expect(errors).toHaveLength(1);
    });
  });

  // Model: per source, the list of records in arrival order with their
  // remaining holder counts; the expected watermark is the cursor of the
  // last record of the longest fully-settled prefix.
  test.prop(
    [
      fc.array(
        fc.record({
          source: fc.integer({ min: 0, max: 2 }),
          holders: fc.integer({ min: 0, max: 3 }),
          cursor: fc.boolean(),
        }),
        { minLength: 1, maxLength: 120 },
      ),
      fc.array(fc.nat(), { maxLength: 400 }),
      fc.integer({ min: 0, max: 10 }),
      fc.integer({ min: 1, max: 5 }),
    ],
    { numRuns: 300 },
  )(
    'createAckTracker: watermark never passes an unsettled record and reaches the end',
    (specs, picks, interleaveEvery, flushEvery) => {
      const committer = recordingCommitter();
      const tracker = createAckTracker({ committer });
      interface ModelEntry {
        item: AckItem;
        source: number;
        n: number;
        cursor: boolean;
        left: number;
      }
      const model: ModelEntry[] = [];
      const open: ModelEntry[] = [];
      // strict: the watermark is exactly the settled prefix (after a
      // flush); otherwise it may lag but never pass an unsettled record.
      const check = (strict = true): void => {
        for (let s = 0; s < SOURCES.length; s++) {
          const ref = SOURCES[s] as SourceRef;
          const entries = model.filter((e) => e.source === s);
          let expected: Cursor | undefined;
          for (const e of entries) {
            if (e.left > 0) break;
            if (e.cursor) expected = { offset: e.n, line: e.n };
          }
          const commits = committer.commits.get(`${ref.kind}:${ref.id}`) ?? [];
          const last = commits[commits.length - 1] as
            { offset: number } | undefined;
          if (strict) expect(last).toEqual(expected);
          else if (last !== undefined) {
            expect(expected).toBeDefined();
            expect(last.offset).toBeLessThanOrEqual(
              (expected as { offset: number }).offset,
            );
          }
          // Monotone: commits never go backwards.
          for (let i = 1; i < commits.length; i++) {
            const prev = commits[i - 1] as { offset: number };
            const cur = commits[i] as { offset: number };
            expect(cur.offset).toBeGreaterThan(prev.offset);
          }
        }
      };
      let pickIndex = 0;
      const settleOne = (): void => {
        if (open.length === 0) return;
        const at = (picks[pickIndex++] ?? 0) % open.length;
        const entry = open[at] as ModelEntry;
        entry.left--;
        tracker.settle(entry.item);
        if (entry.left === 0) open.splice(at, 1);
        // Settlements are applied in groups, like a batch result.
        if (pickIndex % flushEvery === 0) {
          tracker.flush();
          check();
        } else check(false);
      };
      specs.forEach((spec, n) => {
        const ref = SOURCES[spec.source] as SourceRef;
        const item = tracker.track(
          record(ref, n + 1, spec.cursor),
          spec.holders,
        );
        const entry: ModelEntry = {
          item,
          source: spec.source,
          n: n + 1,
          cursor: spec.cursor,
          left: spec.holders,
        };
        model.push(entry);
        if (spec.holders > 0) open.push(entry);
        if (n % flushEvery === 0) {
          tracker.flush();
          check();
        } else check(false);
        if (interleaveEvery > 0 && n % interleaveEvery === 0) settleOne();
      });
      while (open.length > 0) settleOne();
      tracker.flush();
      check();
      expect(tracker.unsettled).toBe(0);
      expect(tracker.sources).toBe(0);
    },
  );
});
