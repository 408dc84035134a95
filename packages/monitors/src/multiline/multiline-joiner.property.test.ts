// Invariants of multiline joining (fast-check): records never lose,
// duplicate or reorder bytes, respect their limits, and, over a real line
// splitter fed at random chunk boundaries, a crash at any point resumes
// from a record boundary and re-reads every pending line.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { SplitLine } from '../file/internal/line-splitter.js';
import { LineSplitter } from '../file/internal/line-splitter.js';
import type { JoinedRecord } from './multiline-joiner.js';
import { createMultilineJoiner } from './multiline-joiner.js';
import type { MultilineOptions } from './multiline-options.js';
import { MULTILINE_PRESETS } from './multiline-options.js';

// Lines from an alphabet that makes every pattern and preset fire.
const lineArb = fc
  .array(
    fc.constantFrom(
      'S',
      ' ',
      '\t',
      'a',
      '{',
      '}',
      '"',
      '\\',
      'é',
      ';',
      'at ',
      'Caused by: ',
      'panic: ',
      'goroutine 1 [running]:',
      'Traceback (most recent call last):',
      'x.y.FooError: ',
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const optionsArb: fc.Arbitrary<MultilineOptions> = fc.oneof(
  fc.record({
    preset: fc.constantFrom(...MULTILINE_PRESETS),
    maxLines: fc.integer({ min: 1, max: 8 }),
    maxBytes: fc.integer({ min: 1, max: 64 }),
  }),
  fc
    .record({
      key: fc.constantFrom('startPattern', 'continuePattern', 'endPattern'),
      pattern: fc.constantFrom('^S', '^\\s', ';$', '\\\\$', 'a', '^$'),
      negate: fc.boolean(),
      maxLines: fc.integer({ min: 1, max: 8 }),
      maxBytes: fc.integer({ min: 1, max: 64 }),
    })
    .map(({ key, pattern, ...rest }) => ({ [key]: pattern, ...rest })),
);

/** What happens between pushes. */
const eventArb = fc.oneof(
  {
    weight: 8,
    arbitrary: lineArb.map((text) => ({ kind: 'line', text }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'timeout' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' } as const) },
);

interface N {
  readonly text: string;
  readonly n: number;
}

describe('createMultilineJoiner', () => {
  describe('push', () => {
    test.prop([optionsArb, fc.array(eventArb, { maxLength: 60 })])(
      'should give back every line once, in order, in consecutive runs within maxLines and maxBytes',
      (options, events) => {
        const j = createMultilineJoiner<N>(options);
        const out: JoinedRecord<N>[] = [];
        const lines: string[] = [];
        for (const e of events) {
          if (e.kind === 'line') {
            lines.push(e.text);
            j.push({ text: e.text, n: lines.length }, 0, out);
          } else j.flush(out, e.kind);
        }
        j.flush(out);
        expect(out.map((r) => r.text).join('\n')).toBe(lines.join('\n'));
        let next = 1;
        for (const r of out) {
          expect(r.first.n).toBe(next);
          expect(r.last.n).toBe(next + r.lines - 1);
          next += r.lines;
          expect(r.lines).toBeLessThanOrEqual(options.maxLines as number);
          if (r.lines > 1)
            expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(
              options.maxBytes as number,
            );
        }
        expect(next).toBe(lines.length + 1);
      },
    );

    test.prop([
      optionsArb,
      fc.array(lineArb, { maxLength: 40 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 23 }), {
        minLength: 1,
        maxLength: 30,
      }),
      fc.nat(),
    ])(
      'should commit only record ends over random chunk boundaries, so a crash re-reads pending lines whole',
      (options, texts, endsWithNewline, chunkSizes, crashAt) => {
        const content = Buffer.from(
          texts.join('\n') + (endsWithNewline && texts.length > 0 ? '\n' : ''),
        );
        // Read from `from`, stop after `stopAfter` chunks (a crash) or at the
        // end; returns the records and the last record's cursor offset.
        const read = (from: number, lineNo: number, stopAfter: number) => {
          const splitter = new LineSplitter(
            'utf8',
            1 << 20,
            'truncate',
            { truncatedLines: 0, skippedLines: 0, invalidChars: 0 },
            from,
            lineNo,
          );
          const joiner = createMultilineJoiner<SplitLine>(options);
          const records: JoinedRecord<SplitLine>[] = [];
          const lineStart = new Map<number, number>();
          let prevEnd = from;
          let pos = from;
          let chunk = 0;
          while (pos < content.length && chunk < stopAfter) {
            const size = chunkSizes[chunk % chunkSizes.length] as number;
            const lines: SplitLine[] = [];
            splitter.feed(content.subarray(pos, pos + size), lines);
            pos = Math.min(content.length, pos + size);
            chunk++;
            for (const l of lines) {
              lineStart.set(l.lineNo, prevEnd);
              prevEnd = l.endOffset;
              joiner.push(l, 0, records);
            }
            // The commit point (last record's end) is where the pending
            // record starts: no position inside a record is ever committed.
            const first = joiner.pendingFirst;
            const committed = records.at(-1)?.last.endOffset ?? from;
            if (first !== undefined)
              expect(committed).toBe(lineStart.get(first.lineNo));
          }
          if (chunk < stopAfter) {
            const tail: SplitLine[] = [];
            splitter.flushPartial(tail);
            for (const l of tail) joiner.push(l, 0, records);
            joiner.flush(records);
          }
          return records;
        };
        const before = read(0, 0, crashAt % (chunkSizes.length * 4 + 1));
        const committedAt = before.at(-1)?.last;
        const after = read(
          committedAt?.endOffset ?? 0,
          committedAt?.lineNo ?? 0,
          Infinity,
        );
        const all = [...before, ...after];
        // The lines of the content: an empty last piece is no line.
        const expected = content.toString().split('\n');
        if (expected.at(-1) === '') expected.pop();
        expect(all.map((r) => r.text).join('\n')).toBe(expected.join('\n'));
        // Cursors move forward and the last is the end of the content.
        for (let i = 1; i < all.length; i++)
          expect(
            (all[i] as JoinedRecord<SplitLine>).last.endOffset,
          ).toBeGreaterThan(
            (all[i - 1] as JoinedRecord<SplitLine>).last.endOffset,
          );
        if (all.length > 0)
          expect(all.at(-1)?.last.endOffset).toBe(content.length);
      },
    );
  });
});
