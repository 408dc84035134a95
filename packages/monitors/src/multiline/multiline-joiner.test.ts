import { LcError } from '@lc/core';
import { describe, expect, it } from 'vitest';
import type { JoinedRecord, MultilineJoiner } from './multiline-joiner.js';
import { createMultilineJoiner } from './multiline-joiner.js';
import type { MultilineOptions } from './multiline-options.js';

interface Line {
  readonly text: string;
  readonly n: number;
}

/** Push `texts` (numbered from 1) and flush at the end; the records' texts and line numbers. */
function join(
  options: MultilineOptions,
  texts: readonly string[],
  { flushAtEnd = true } = {},
): { text: string; first: number; last: number; reason: string }[] {
  const j = createMultilineJoiner<Line>(options);
  const out: JoinedRecord<Line>[] = [];
  texts.forEach((text, i) => j.push({ text, n: i + 1 }, 0, out));
  if (flushAtEnd) j.flush(out);
  return out.map((r) => ({
    text: r.text,
    first: r.first.n,
    last: r.last.n,
    reason: r.reason,
  }));
}

const texts = (records: { text: string }[]) => records.map((r) => r.text);

describe('createMultilineJoiner', () => {
  describe('options', () => {
    it('should throw LC_ERR_INVALID_OPTION naming the option for a bad setting', () => {
      const bad: [MultilineOptions, RegExp][] = [
        [{}, /exactly one of preset, startPattern/],
        [{ startPattern: 'a', continuePattern: 'b' }, /exactly one/],
        [{ preset: 'java', startPattern: 'a' }, /exactly one/],
        [{ startPattern: '(' }, /multiline\.startPattern.*valid regular/],
        [{ preset: 'ruby' as 'java' }, /multiline\.preset.*one of java/],
        [{ preset: 'java', negate: true }, /multiline\.negate/],
        [{ startPattern: 'a', maxLines: 0 }, /multiline\.maxLines/],
        [{ startPattern: 'a', maxBytes: 1.5 }, /multiline\.maxBytes/],
        [{ startPattern: 'a', flushTimeoutMs: -1 }, /flushTimeoutMs/],
      ];
      for (const [options, message] of bad) {
        let caught: unknown;
        try {
          createMultilineJoiner(options);
        } catch (error) {
          caught = error;
        }
        expect(LcError.isInstance(caught, 'LC_ERR_INVALID_OPTION')).toBe(true);
        expect((caught as Error).message).toMatch(message);
      }
    });

    it('should ignore the g and y flags of a RegExp (test would be stateful)', () => {
      const records = join({ startPattern: /^S/g }, ['S1', 'x', 'S2', 'S3']);
      expect(texts(records)).toEqual(['S1\nx', 'S2', 'S3']);
    });
  });

  describe('push', () => {
    it('should start a record at each line matching startPattern, or not matching it with negate', () => {
      const lines = ['S a', ' b', ' c', 'S d', 'e'];
      expect(texts(join({ startPattern: '^S' }, lines))).toEqual([
        'S a\n b\n c',
        'S d\ne',
      ]);
      // negate: a line NOT matching starts one (lines matching are appended).
      expect(
        texts(join({ startPattern: '^\\s', negate: true }, lines)),
      ).toEqual(['S a\n b\n c', 'S d', 'e']);
    });

    it('should append lines matching continuePattern to the record before, or lines not matching it with negate', () => {
      const lines = ['a', ' b', ' c', 'd', ' e'];
      expect(texts(join({ continuePattern: '^\\s' }, lines))).toEqual([
        'a\n b\n c',
        'd\n e',
      ]);
      expect(
        texts(join({ continuePattern: '^\\S', negate: true }, lines)),
      ).toEqual(['a\n b\n c', 'd\n e']);
    });

    it('should end a record at a line matching endPattern, or not matching it with negate (backslash continuation)', () => {
      expect(
        texts(join({ endPattern: ';$' }, ['select', '*', 'from t;', 'x;'])),
      ).toEqual(['select\n*\nfrom t;', 'x;']);
      expect(
        texts(
          join({ endPattern: '\\\\$', negate: true }, [
            'a \\',
            'b \\',
            'c',
            'd',
          ]),
        ),
      ).toEqual(['a \\\nb \\\nc', 'd']);
    });

    it('should keep the pending record until a line completes it', () => {
      const j = createMultilineJoiner<Line>({ startPattern: '^S' });
      const out: JoinedRecord<Line>[] = [];
      j.push({ text: 'S 1', n: 1 }, 0, out);
      j.push({ text: ' 2', n: 2 }, 5, out);
      expect(out).toEqual([]);
      expect(j.pending).toBe(true);
      expect(j.pendingFirst?.n).toBe(1);
      j.push({ text: 'S 3', n: 3 }, 6, out);
      expect(out.map((r) => [r.first.n, r.last.n, r.lines])).toEqual([
        [1, 2, 2],
      ]);
      expect(j.pendingFirst?.n).toBe(3);
    });

    it('should emit at maxLines and go on with the next record, counting the reason', () => {
      const records = join({ continuePattern: '^\\s', maxLines: 3 }, [
        'a',
        ' 1',
        ' 2',
        ' 3',
        ' 4',
        'b',
      ]);
      expect(records).toEqual([
        { text: 'a\n 1\n 2', first: 1, last: 3, reason: 'max_lines' },
        { text: ' 3\n 4', first: 4, last: 5, reason: 'rule' },
        { text: 'b', first: 6, last: 6, reason: 'flush' },
      ]);
    });

    it('should count maxBytes in UTF-8 bytes with separators and never cut a line', () => {
      // 'é' is 2 bytes: 'aé' = 3 bytes, + '\n' + 'bé' = 7 bytes.
      const records = join({ continuePattern: '^', maxBytes: 7 }, [
        'aé',
        'bé',
        'cé',
        'x'.repeat(20),
        'd',
      ]);
      expect(records).toEqual([
        { text: 'aé\nbé', first: 1, last: 2, reason: 'max_bytes' },
        { text: 'cé', first: 3, last: 3, reason: 'max_bytes' },
        { text: 'x'.repeat(20), first: 4, last: 4, reason: 'max_bytes' },
        { text: 'd', first: 5, last: 5, reason: 'flush' },
      ]);
    });

    it('should join with the configured separator', () => {
      expect(
        texts(join({ startPattern: '^S', separator: ' | ' }, ['S', 'a', 'b'])),
      ).toEqual(['S | a | b']);
    });
  });

  describe('flush', () => {
    it('should emit the pending record with its reason and report when it is due', () => {
      const j: MultilineJoiner<Line> = createMultilineJoiner<Line>({
        startPattern: '^S',
        flushTimeoutMs: 100,
      });
      const out: JoinedRecord<Line>[] = [];
      expect(j.flushDueAtMs).toBe(Infinity);
      j.push({ text: 'S', n: 1 }, 1000, out);
      j.push({ text: 'x', n: 2 }, 1040, out);
      expect(j.flushDueAtMs).toBe(1140);
      j.flush(out, 'timeout');
      expect(out.map((r) => [r.text, r.reason])).toEqual([['S\nx', 'timeout']]);
      expect(j.pending).toBe(false);
      expect(j.flushDueAtMs).toBe(Infinity);
      j.flush(out);
      expect(out).toHaveLength(1);
    });
  });

  describe('clear', () => {
    it('should drop pending lines and the rule state', () => {
      const j = createMultilineJoiner<Line>({ preset: 'json' });
      const out: JoinedRecord<Line>[] = [];
      j.push({ text: '{', n: 1 }, 0, out);
      j.clear();
      expect(j.pending).toBe(false);
      // Depth forgotten: a plain line is a record of its own at once.
      j.push({ text: 'plain', n: 2 }, 0, out);
      expect(out.map((r) => r.text)).toEqual(['plain']);
    });
  });
});
