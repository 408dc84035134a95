import { fc, test } from '@fast-check/vitest';
import { LcError, WriteResults } from '@lc/core';
import type { Cursor, LogRecord, SourceRef, WriteResult } from '@lc/core';
import { createInMemorySink } from '@lc/core/testing';
import { expect } from 'vitest';
import { createMemoryDeadLetters, rec } from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';

type Outcome = 'success' | 'retryable' | 'failure' | 'partial';

function outcome(
  kind: Outcome,
  batch: readonly LogRecord[],
  salt: number,
): WriteResult {
  const error = new LcError({ code: 'LC_ERR_SINK_UNAVAILABLE', message: kind });
  if (kind === 'success') return WriteResults.success();
  if (kind === 'retryable') return WriteResults.retryable(error);
  if (kind === 'failure') return WriteResults.failure(error);
  const failed = batch
    .map((_, index) => index)
    .filter((i) => (i + salt) % 3 === 0)
    .map((index) => ({ index, retryable: (index + salt) % 2 === 0, error }));
  return WriteResults.partial(failed, batch.length);
}

const offset = (r: LogRecord) => (r.cursor as { offset: number }).offset;

test.prop(
  [
    fc.array(
      fc.constantFrom<Outcome>(
        'success',
        'success',
        'retryable',
        'failure',
        'partial',
      ),
      {
        minLength: 1,
        maxLength: 40,
      },
    ),
    fc.array(fc.constantFrom<Outcome>('success', 'retryable', 'partial'), {
      minLength: 1,
      maxLength: 40,
    }),
    fc.integer({ min: 1, max: 9 }),
    fc.integer({ min: 20, max: 150 }),
  ],
  { numRuns: 25 },
)(
  'createDispatcher: the committed watermark never passes a record some sink has not delivered or dead-lettered',
  async (scriptA, scriptB, batchMaxRecords, count) => {
    const sinks = [scriptA, scriptB].map((script, s) => {
      let call = 0;
      return createInMemorySink({
        name: `s${s}`,
        behaviour: (batch) => {
          // After the script, succeed so everything eventually settles.
          const kind = script[call] ?? 'success';
          call++;
          return outcome(kind, batch, call);
        },
      });
    });
    const deadLetters = createMemoryDeadLetters();
    const violations: string[] = [];
    let last = 0;
    const settledFor = (sinkIndex: number, n: number): boolean => {
      const sink = sinks[sinkIndex];
      const name = `s${sinkIndex}`;
      return (
        sink !== undefined &&
        (sink.records.some((r) => offset(r) === n) ||
          deadLetters.entries.some(
            (e) => e.sink === name && offset(e.record) === n,
          ))
      );
    };
    const committer = {
      commit(_source: SourceRef, cursor: Cursor) {
        const to = (cursor as { offset: number }).offset;
        if (to < last) violations.push(`backwards ${last} → ${to}`);
        for (let n = 1; n <= to; n++) {
          if (!settledFor(0, n) || !settledFor(1, n))
            violations.push(`committed ${to} before ${n} settled`);
        }
        last = to;
      },
    };
    const d = createDispatcher({
      sinks,
      committer,
      deadLetters,
      batchMaxRecords,
      batchTimeoutMs: 2,
      workers: 3,
      circuit: { failureThreshold: 0 },
      retry: { baseDelayMs: 1, maxDelayMs: 3 },
      sinkOptions: { s0: { ordering: 'none' }, s1: { ordering: 'none' } },
    });
    for (let n = 1; n <= count; n++) d.dispatch(rec(n));
    await d.flush();
    await d.shutdown();
    expect(violations).toEqual([]);
    expect(last).toBe(count);
  },
);
