import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';
import type { SplitLine } from './line-splitter.js';

const counters = () => ({
  truncatedLines: 0,
  skippedLines: 0,
  invalidChars: 0,
});

function splitAll(
  chunks: Buffer[],
  maxLineBytes = 1 << 20,
  encoding: 'utf8' | 'utf16le' = 'utf8',
): SplitLine[] {
  const s = new LineSplitter(
    encoding,
    maxLineBytes,
    'truncate',
    counters(),
    0,
    0,
  );
  const out: SplitLine[] = [];
  let rest: Buffer = Buffer.alloc(0);
  for (const c of chunks) {
    // Like the monitor: bytes not consumed are read (fed) again.
    const chunk = Buffer.concat([rest, c]);
    rest = chunk.subarray(s.feed(chunk, out));
  }
  return out;
}

function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('LineSplitter', () => {
  describe('feed', () => {
    test.prop([
      fc.array(
        fc.string({ unit: 'grapheme' }).map((s) => s.replace(/\n/g, '')),
        { maxLength: 30 },
      ),
      fc.array(fc.nat(), { maxLength: 20 }),
    ])(
      'should give the same lines and offsets however the bytes are chunked',
      (lines, cuts) => {
        const text = lines.map((l) => `${l}\n`).join('');
        const buf = Buffer.from(text, 'utf8');
        const out = splitAll(chunked(buf, cuts));
        expect(out.map((l) => l.text)).toEqual(
          lines.map((l) => l.replace(/\r$/, '')),
        );
        let offset = 0;
        out.forEach((l, i) => {
          offset += Buffer.byteLength(`${lines[i]}\n`);
          expect(l.endOffset).toBe(offset);
          expect(l.lineNo).toBe(i + 1);
        });
      },
    );

    test.prop([
      fc.array(
        fc.string({ unit: 'binary' }).map((s) => s.replace(/\n/g, '')),
        { maxLength: 20 },
      ),
      fc.array(fc.nat(), { maxLength: 20 }),
    ])('should split UTF-16LE on whole code units only', (lines, cuts) => {
      const buf = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf16le');
      const out = splitAll(chunked(buf, cuts), 1 << 20, 'utf16le');
      expect(out.map((l) => l.text)).toEqual(
        lines.map((l) => l.replace(/\r$/, '')),
      );
    });

    it('should cap a held line at maxLineBytes and count it', () => {
      const c = counters();
      const s = new LineSplitter('utf8', 10, 'truncate', c, 0, 0);
      const out: SplitLine[] = [];
      for (let i = 0; i < 100; i++) s.feed(Buffer.from('abcdefghij'), out);
      s.feed(Buffer.from('\nok\n'), out);
      expect(out.map((l) => l.text)).toEqual(['abcdefghij', 'ok']);
      expect(out[0]?.endOffset).toBe(1001);
      expect(c.truncatedLines).toBe(1);
    });
  });
});
