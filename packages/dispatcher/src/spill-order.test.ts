import { fc, test } from '@fast-check/vitest';
import { LcError, WriteResults } from '@lc/core';
import type { Cursor, LogRecord, SourceRef } from '@lc/core';
import { createInMemorySink } from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import { expect } from 'vitest';
import { rec } from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';

const offset = (r: LogRecord): number =>
  (r.cursor as { offset: number }).offset;

test.prop(
  [
    // Which source each record comes from (its offset is its rank there).
    fc.array(fc.integer({ min: 0, max: 2 }), {
      minLength: 50,
      maxLength: 600,
      size: 'max',
    }),
    // Sink results, one per write; afterwards it succeeds.
    fc.array(fc.boolean(), { maxLength: 30 }),
    fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 1, max: 12 }),
    // Yield to the event loop every this many records (0: never).
    fc.integer({ min: 0, max: 50 }),
    // Spill bound in records of ~75 estimated bytes.
    fc.integer({ min: 5, max: 300 }),
    // Durable spill (commits pass records once written) or not.
    fc.boolean(),
    // Spill whenever the intake is full, or only while the sink fails
    // (it engages and disengages as the script's failures come and go).
    fc.constantFrom('risk' as const, 'backpressure' as const),
  ],
  { numRuns: 40 },
)(
  'createDispatcher: with spill on, every dispatched record is delivered exactly once, in per-source order, and (not durable) no commit passes an undelivered record',
  async (
    from,
    script,
    maxQueueRecords,
    batchMaxRecords,
    yieldEvery,
    spillRecords,
    durable,
    trigger,
  ) => {
    const tmp = await createTempDir('lc-spill-prop-');
    let call = 0;
    const sink = createInMemorySink({
      behaviour: () =>
        (script[call++] ?? true)
          ? WriteResults.success()
          : WriteResults.retryable(
              new LcError({ code: 'LC_ERR_SINK_UNAVAILABLE', message: 'down' }),
            ),
    });
    const violations: string[] = [];
    const committed = new Map<string, number>();
    const committer = {
      commit(src: SourceRef, cursor: Cursor) {
        const to = (cursor as { offset: number }).offset;
        const seen = new Set(
          sink.records.filter((r) => r.source.id === src.id).map(offset),
        );
        for (let n = (committed.get(src.id) ?? 0) + 1; n <= to; n++)
          if (!seen.has(n)) violations.push(`${src.id}: ${to} before ${n}`);
        committed.set(src.id, to);
      },
    };
    const d = createDispatcher({
      sinks: [sink],
      committer,
      maxQueueRecords,
      batchMaxRecords,
      batchTimeoutMs: 1,
      circuit: { failureThreshold: 0 },
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      spill: {
        directory: tmp.path,
        maxBytes: spillRecords * 75,
        durable,
        trigger,
      },
    });
    try {
      await d.start();
      const next = [0, 0, 0];
      const expected = new Map<string, number[]>();
      for (let i = 0; i < from.length; i++) {
        const s = from[i] as number;
        const n = (next[s] ?? 0) + 1;
        next[s] = n;
        const id = `s${s}`;
        // One label set per source: per-stream order is per-source order.
        if (!d.dispatch(rec(n, id, id))) await d.whenWritable();
        expected.set(id, [...(expected.get(id) ?? []), n]);
        if (yieldEvery > 0 && i % yieldEvery === 0)
          await new Promise((r) => setImmediate(r));
      }
      await d.flush();
      const got = new Map<string, number[]>();
      for (const r of sink.records)
        got.set(r.source.id, [...(got.get(r.source.id) ?? []), offset(r)]);
      expect(got).toEqual(expected);
      // A durable spill holds what it wrote: commits may pass it before it
      // is delivered. Not durable: only delivered records are committed.
      if (!durable) expect(violations).toEqual([]);
      for (const [id, list] of expected)
        expect(committed.get(id)).toBe(list[list.length - 1]);
      expect(d.stats().spilledRecords).toBe(0);
    } finally {
      await d.shutdown();
      await tmp.cleanup();
    }
  },
);
