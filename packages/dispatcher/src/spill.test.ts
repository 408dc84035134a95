import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDiskLog } from '@lc/buffer';
import { LcError, WriteResults } from '@lc/core';
import type { Cursor, LogRecord, Sink, SourceRef } from '@lc/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  dispatcherScope,
  eventually,
  labels,
  offset,
  rec,
  source,
} from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import {
  decodeChunk,
  encodeChunk,
  SpillDictionary,
} from './internal/spill-codec.js';

const { live, dirs } = dispatcherScope('lc-spill-');
const tempDir = dirs.make;

/** A sink whose writes wait until `open()`; records every delivered record. */
function gatedSink(name = 'gated'): Sink & {
  open(): void;
  records: LogRecord[];
} {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  let opened = false;
  const records: LogRecord[] = [];
  return {
    name,
    records,
    open() {
      opened = true;
      release();
    },
    async write(batch) {
      if (!opened) await gate;
      records.push(...batch);
      return WriteResults.success();
    },
    async flush() {},
    async shutdown() {
      gate = Promise.resolve();
      release();
    },
  };
}

/**
 * A committer that checks, at every commit, that each record of that
 * source up to the cursor has been delivered (`delivered` is the sink's
 * record list). Collects violations instead of throwing.
 */
function checkingCommitter(delivered: readonly LogRecord[]): {
  commit(src: SourceRef, cursor: Cursor): void;
  last: Map<string, number>;
  violations: string[];
} {
  const last = new Map<string, number>();
  const violations: string[] = [];
  return {
    last,
    violations,
    commit(src, cursor) {
      const to = (cursor as { offset: number }).offset;
      const seen = new Set(
        delivered.filter((r) => r.source.id === src.id).map(offset),
      );
      for (let n = (last.get(src.id) ?? 0) + 1; n <= to; n++)
        if (!seen.has(n))
          violations.push(`${src.id}: committed ${to} before ${n}`);
      last.set(src.id, to);
    },
  };
}

function bySource(records: readonly LogRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of records) {
    const list = out.get(r.source.id) ?? [];
    list.push(offset(r));
    out.set(r.source.id, list);
  }
  return out;
}

const range = (n: number): number[] =>
  Array.from({ length: n }, (_, i) => i + 1);

describe('createDispatcher', () => {
  describe('spill', () => {
    it('should spill to disk instead of pausing, then deliver every record once, in order, committing only delivered ones (not durable)', async () => {
      const directory = await tempDir();
      const sink = gatedSink();
      const committer = checkingCommitter(sink.records);
      const registry = new Registry();
      const d = createDispatcher({
        sinks: [sink],
        committer,
        registry,
        maxQueueRecords: 20,
        batchMaxRecords: 10,
        batchTimeoutMs: 1,
        spill: { trigger: 'backpressure', directory, durable: false },
      });
      live.push(d);
      await d.start();
      for (let n = 1; n <= 600; n++) {
        // Two sources, two streams, interleaved.
        expect(d.dispatch(rec(n, 'a', 'a'))).toBe(true);
        expect(d.dispatch(rec(n, 'b', 'b'))).toBe(true);
      }
      const held = d.stats();
      expect(held.queuedRecords).toBeLessThanOrEqual(20);
      expect(held.spilledTotal).toBeGreaterThanOrEqual(1180);
      expect(committer.last.size).toBe(0);

      sink.open();
      await d.flush();
      const got = bySource(sink.records);
      expect(got.get('a')).toEqual(range(600));
      expect(got.get('b')).toEqual(range(600));
      expect(committer.violations).toEqual([]);
      expect(committer.last.get('a')).toBe(600);
      expect(committer.last.get('b')).toBe(600);
      // Records come back with the objects they were dispatched with.
      expect(sink.records.every((r) => r.labels === labels(r.source.id))).toBe(
        true,
      );
      expect(sink.records.every((r) => r.source === source(r.source.id))).toBe(
        true,
      );
      const after = d.stats();
      expect(after.spilledRecords).toBe(0);
      expect(after.spilledBytes).toBe(0);
      // It went through real files.
      const metrics = await registry.getMetricsAsJSON();
      const value = (name: string): number =>
        metrics
          .find((m) => m.name === name)
          ?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
      expect(value('lc_dispatcher_spilled_records_total')).toBe(
        after.spilledTotal,
      );
      expect(value('lc_dispatcher_spilled_bytes_total')).toBeGreaterThan(0);
      expect(value('lc_buffer_written_records_total')).toBeGreaterThan(0);
    });

    it('should backpressure when the spill is full and resume once it drains', async () => {
      const directory = await tempDir();
      const sink = gatedSink();
      const d = createDispatcher({
        sinks: [sink],
        maxQueueRecords: 10,
        batchMaxRecords: 5,
        batchTimeoutMs: 1,
        // ~74 estimated bytes per record: room for about 40.
        spill: { trigger: 'backpressure', directory, maxBytes: 3000 },
      });
      live.push(d);
      let n = 0;
      while (d.dispatch(rec(++n))) if (n > 1000) break;
      expect(n).toBeLessThan(100);
      expect(d.stats().writable).toBe(false);
      const writable = d.whenWritable();
      sink.open();
      await writable;
      for (let m = n + 1; m <= 200; m++)
        if (!d.dispatch(rec(m))) await d.whenWritable();
      await d.flush();
      expect(bySource(sink.records).get('a')).toEqual(range(200));
      expect(d.stats().backpressureMs).toBeGreaterThan(0);
    });

    it('should discard what a previous process left in the directory (not durable)', async () => {
      const directory = await tempDir();
      const old = await createDiskLog({ directory, fsync: 'never' });
      await old.append(
        encodeChunk([rec(1, 'old'), rec(2, 'old')], new SpillDictionary()),
      );
      await old.shutdown();
      const sink = gatedSink();
      sink.open();
      const d = createDispatcher({
        sinks: [sink],
        maxQueueRecords: 5,
        batchMaxRecords: 5,
        batchTimeoutMs: 1,
        spill: { trigger: 'backpressure', directory, durable: false },
        onError: (error) => {
          throw error;
        },
      });
      live.push(d);
      await d.start();
      for (let n = 1; n <= 50; n++) d.dispatch(rec(n));
      await d.flush();
      expect(bySource(sink.records)).toEqual(new Map([['a', range(50)]]));
    });

    it('should keep records in memory and backpressure when the directory is unusable', async () => {
      const dir = await tempDir();
      const directory = join(dir, 'a-file');
      await writeFile(directory, 'not a directory');
      const errors: unknown[] = [];
      const sink = gatedSink();
      const d = createDispatcher({
        sinks: [sink],
        maxQueueRecords: 10,
        batchMaxRecords: 5,
        batchTimeoutMs: 1,
        spill: { trigger: 'backpressure', directory },
        onError: (error) => errors.push(error),
      });
      live.push(d);
      await d.start();
      // Taken into the spill's unwritten tail until the write fails…
      for (let n = 1; n <= 100; n++) d.dispatch(rec(n));
      await eventually(() => errors.length >= 2, 10_000, 'a failed write');
      // …then it is full: the intake backpressures, nothing is lost.
      expect(d.stats().writable).toBe(false);
      sink.open();
      for (let n = 101; n <= 300; n++)
        if (!d.dispatch(rec(n))) await d.whenWritable();
      await d.flush();
      expect(bySource(sink.records).get('a')).toEqual(range(300));
      expect(errors.length).toBeGreaterThan(0);
    });

    it('should leave spilled records uncommitted when shutdown gives up (not durable)', async () => {
      const directory = await tempDir();
      const sink = gatedSink();
      const committer = checkingCommitter(sink.records);
      const d = createDispatcher({
        sinks: [sink],
        committer,
        maxQueueRecords: 10,
        batchMaxRecords: 5,
        batchTimeoutMs: 1,
        shutdownTimeoutMs: 0,
        spill: { trigger: 'backpressure', directory, durable: false },
      });
      for (let n = 1; n <= 100; n++) d.dispatch(rec(n));
      expect(d.stats().spilledRecords).toBeGreaterThan(0);
      await d.shutdown();
      expect(committer.last.get('a')).toBeUndefined();
      expect(committer.violations).toEqual([]);
    });

    it('should be rejected with a drop policy or without a directory', () => {
      const sink = gatedSink();
      const make = (o: object) => () =>
        createDispatcher({ sinks: [sink], ...o });
      const code = (fn: () => unknown): string | undefined => {
        try {
          fn();
          return undefined;
        } catch (error) {
          return LcError.isInstance(error)
            ? `${error.code} ${String(error.details.option)}`
            : String(error);
        }
      };
      expect(
        code(
          make({ spill: { directory: '/tmp/x' }, dropPolicy: 'drop_newest' }),
        ),
      ).toBe('LC_ERR_INVALID_OPTION dropPolicy');
      expect(code(make({ spill: { directory: '' } }))).toBe(
        'LC_ERR_INVALID_OPTION spill.directory',
      );
      expect(code(make({ spill: { directory: '/tmp/x', maxBytes: 0 } }))).toBe(
        'LC_ERR_INVALID_OPTION spill.maxBytes',
      );
    });
  });
});

describe('encodeChunk', () => {
  it('should round-trip records, keeping label and source objects and absent or null cursors', () => {
    const dict = new SpillDictionary();
    const base = rec(7, 'c', 'api');
    const records: LogRecord[] = [
      base,
      { ...base, cursor: null, metadata: { trace: 'x' } },
      { ...rec(8, 'c', 'api'), cursor: undefined },
      {
        ...rec(9, 'd', 'web', 'ünïcødé \u0000 "quoted"'),
        cursor: { id: 'abc', ns: '1700000000123456789' },
      },
    ];
    const back = decodeChunk(encodeChunk(records, dict), dict);
    expect(back).toEqual(records.map((r) => JSON.parse(JSON.stringify(r))));
    expect(back[1]?.cursor).toBeNull();
    expect('cursor' in (back[2] as object)).toBe(false);
    expect(back.every((r, i) => r.labels === records[i]?.labels)).toBe(true);
    expect(back.every((r, i) => r.source === records[i]?.source)).toBe(true);
  });
});
