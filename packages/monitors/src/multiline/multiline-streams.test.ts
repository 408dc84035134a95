import { fc, test } from '@fast-check/vitest';
import { createFakeClock } from '@lc/core/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { StreamRecord } from './multiline-streams.js';
import { createMultilineStreams } from './multiline-streams.js';
import type { MultilineOptions } from './multiline-options.js';

/** A line whose cursor is its read sequence number (0 = before any line). */
interface L {
  readonly text: string;
  readonly cursor: number;
}

function setup(multiline: MultilineOptions, isBehind?: () => boolean) {
  const clock = createFakeClock();
  const registry = new Registry();
  const records: StreamRecord<number, L>[] = [];
  let seq = 0;
  const streams = createMultilineStreams<number, L>({
    multiline,
    initialCursor: 0,
    clock,
    registry,
    source: 'container',
    onRecord: (r) => {
      records.push(r);
    },
    ...(isBehind === undefined ? {} : { isBehind }),
  });
  const push = (stream: string, text: string) =>
    streams.push(stream, { text, cursor: ++seq });
  const flushes = async () =>
    (await registry.getSingleMetricAsString('lc_multiline_flushes_total'))
      .split('\n')
      .filter((l) => !l.startsWith('#'));
  return { clock, records, streams, push, flushes };
}

describe('createMultilineStreams', () => {
  describe('push', () => {
    it('should never give a record a cursor past a line still pending on another stream', () => {
      const { records, push } = setup({ preset: 'java' });
      push('stdout', 'INFO one'); // 1
      push('stderr', 'ERROR failed'); // 2: a record starts on stderr
      push('stderr', 'java.lang.IllegalStateException: x'); // 3
      push('stdout', 'INFO two'); // 4: emits "INFO one"
      push('stderr', '\tat A.b(A.java:1)'); // 5
      push('stdout', 'INFO three'); // 6: emits "INFO two"
      // stdout records wait at the cursor before the stderr trace began.
      expect(records.map((r) => [r.stream, r.text, r.cursor])).toEqual([
        ['stdout', 'INFO one', 1],
        ['stdout', 'INFO two', 1],
      ]);
      push('stderr', 'ERROR next'); // 7: emits the trace
      expect(records.at(-1)).toMatchObject({
        stream: 'stderr',
        text: 'ERROR failed\njava.lang.IllegalStateException: x\n\tat A.b(A.java:1)',
        // "INFO three" (6) is still pending on stdout.
        cursor: 5,
      });
      expect(records.at(-1)?.first.cursor).toBe(2);
      expect(records.at(-1)?.last.cursor).toBe(5);
    });

    it('should return false when onRecord asks to pause', () => {
      const streams = createMultilineStreams<number, L>({
        multiline: { preset: 'json' },
        initialCursor: 0,
        onRecord: () => false,
      });
      expect(streams.push('stdout', { text: '{', cursor: 1 })).toBe(true);
      expect(streams.push('stdout', { text: '}', cursor: 2 })).toBe(false);
      streams.close();
    });
  });

  describe('pendingCursor', () => {
    it('should be the cursor before the earliest pending line on any stream, and undefined when none', () => {
      const { streams, push } = setup({ preset: 'java' });
      expect(streams.pendingCursor).toBeUndefined();
      push('stdout', 'INFO one'); // 1: pending (a next line may continue it)
      expect(streams.pendingCursor).toBe(0);
      push('stderr', 'ERROR failed'); // 2
      push('stdout', 'INFO two'); // 3: emits "INFO one"
      // stderr's record began after line 1.
      expect(streams.pendingCursor).toBe(1);
      push('stderr', 'ERROR next'); // 4: emits "ERROR failed"
      // stdout's "INFO two" (after 2) is now the earliest pending line.
      expect(streams.pendingCursor).toBe(2);
      streams.flush();
      expect(streams.pendingCursor).toBeUndefined();
    });
  });

  describe('flush timer', () => {
    it('should emit a pending record flushTimeoutMs after its last line, counted as timeout', async () => {
      const { clock, records, push, flushes } = setup({
        startPattern: '^S',
        flushTimeoutMs: 200,
      });
      push('stdout', 'S 1');
      clock.advance(150);
      push('stdout', ' 2');
      clock.advance(150);
      expect(records).toEqual([]);
      clock.advance(60);
      expect(records.map((r) => [r.text, r.reason, r.cursor])).toEqual([
        ['S 1\n 2', 'timeout', 2],
      ]);
      expect(await flushes()).toEqual([
        'lc_multiline_flushes_total{source="container",reason="timeout"} 1',
      ]);
    });

    it('should hold a due record while the reader is behind', () => {
      let behind = true;
      const { clock, records, push } = setup(
        { startPattern: '^S', flushTimeoutMs: 100 },
        () => behind,
      );
      push('stdout', 'S 1');
      clock.advance(500);
      expect(records).toEqual([]);
      behind = false;
      clock.advance(100);
      expect(records.map((r) => r.text)).toEqual(['S 1']);
    });
  });

  describe('flush', () => {
    it('should emit every pending record, oldest first, the last with the newest cursor', () => {
      const { records, streams, push } = setup({ startPattern: '^S' });
      push('stderr', 'S err'); // 1
      push('stdout', 'S out'); // 2
      push('stderr', ' more'); // 3
      streams.flush();
      expect(records.map((r) => [r.stream, r.text, r.cursor])).toEqual([
        // stdout's record is still unemitted after stderr's: its start bounds it.
        ['stderr', 'S err\n more', 1],
        ['stdout', 'S out', 3],
      ]);
      expect(streams.pending).toBe(false);
    });
  });

  describe('close', () => {
    it('should drop pending lines, stop the timer and ignore later lines', () => {
      const { clock, records, streams, push } = setup({
        startPattern: '^S',
        flushTimeoutMs: 10,
      });
      push('stdout', 'S 1');
      streams.close();
      streams.close();
      clock.advance(100);
      push('stdout', 'S 2');
      streams.flush();
      expect(records).toEqual([]);
      expect(streams.pending).toBe(false);
    });
  });

  describe('invariants', () => {
    const opsArb = fc.array(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({
            stream: fc.constantFrom('stdout', 'stderr'),
            text: fc.constantFrom('S', ' x', 'x', '{', '}', ';', ''),
          }),
        },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }) },
      ),
      { maxLength: 80 },
    );
    const optsArb = fc.oneof(
      fc.constant<MultilineOptions>({ startPattern: '^S' }),
      fc.constant<MultilineOptions>({ continuePattern: '^\\s' }),
      fc.constant<MultilineOptions>({ endPattern: ';$' }),
      fc.constant<MultilineOptions>({ preset: 'json', maxLines: 3 }),
      // A line pushes the record before it out and leaves at once itself.
      fc.constant<MultilineOptions>({ continuePattern: '^\\s', maxBytes: 2 }),
    );

    test.prop([optsArb, opsArb])(
      'should deliver every line once, per stream in order, with cursors that move forward and only past emitted lines',
      (options, ops) => {
        const { clock, records, streams, push } = setup({
          ...options,
          flushTimeoutMs: 100,
        });
        const sent: { stream: string; text: string }[] = [];
        /** The record index each line (by cursor) was emitted in. */
        const emittedIn = new Map<number, number>();
        const check = () => {
          records.forEach((r, k) => {
            for (let c = r.first.cursor; c <= r.last.cursor; c++)
              if (sent[c - 1]?.stream === r.stream && !emittedIn.has(c))
                emittedIn.set(c, k);
          });
        };
        for (const op of ops) {
          if (typeof op === 'number') clock.advance(op);
          else {
            sent.push(op);
            push(op.stream, op.text);
          }
        }
        streams.flush();
        check();
        let prev = 0;
        records.forEach((r, k) => {
          expect(r.cursor).toBeGreaterThanOrEqual(prev);
          prev = r.cursor;
          // Every line up to the cursor is in this record or an earlier one.
          for (let c = 1; c <= r.cursor; c++)
            expect(emittedIn.get(c)).toBeLessThanOrEqual(k);
        });
        if (records.length > 0) expect(prev).toBe(sent.length);
        for (const stream of ['stdout', 'stderr']) {
          expect(
            records
              .filter((r) => r.stream === stream)
              .map((r) => r.text)
              .join('\n'),
          ).toBe(
            sent
              .filter((s) => s.stream === stream)
              .map((s) => s.text)
              .join('\n'),
          );
        }
      },
    );
  });
});
