import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { ContainerCursor } from '@lc/core';
import type {
  ContainerStreamName,
  DockerLogEntry,
} from './docker-log-parser.js';
import type { AssembledLine } from './line-assembler.js';
import {
  compareNs,
  ContainerLineAssembler,
  START_CURSOR,
} from './line-assembler.js';

const BASE = 1_763_900_000_000_000_000n;

function entry(
  stream: ContainerStreamName,
  tsOffset: number,
  text: string,
): DockerLogEntry {
  const ns = BASE + BigInt(tsOffset);
  return {
    stream,
    timestampNs: ns.toString(),
    timestamp: {
      timestampMs: Number(ns / 1_000_000n),
      timestampNanos: Number(ns % 1_000_000n),
    },
    content: Buffer.from(text),
  };
}

function collect(entries: DockerLogEntry[], resumeFrom?: ContainerCursor) {
  const lines: AssembledLine[] = [];
  let duplicates = 0;
  const mismatches: string[] = [];
  const a = new ContainerLineAssembler({
    tty: false,
    maxLineBytes: 1 << 20,
    resumeFrom,
    onLine: (l) => lines.push(l),
    onBoundaryDuplicate: () => duplicates++,
    onResumeMismatch: (d) => mismatches.push(d.reason),
  });
  for (const e of entries) a.push(e);
  return { lines, duplicates, mismatches, assembler: a };
}

// Entries with non-decreasing timestamps and frequent ties, some split.
const logArb = fc
  .array(
    fc.record({
      stream: fc.constantFrom<ContainerStreamName>('stdout', 'stderr'),
      gap: fc.constantFrom(0, 0, 1, 5, 400_000_000),
      // Docker stamps stdout and stderr in two goroutines: an entry can
      // carry an earlier timestamp than the one before it in the log.
      skew: fc.constantFrom(0, 0, 0, 3, 700_000_000),
      pieces: fc.array(fc.string({ minLength: 0, maxLength: 5 }), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((lines) => {
    const entries: DockerLogEntry[] = [];
    let ts = 0;
    let n = 0;
    for (const l of lines) {
      // Lines are written whole (as a container does) so the two streams
      // never interleave inside a split line in this model.
      l.pieces.forEach((p, i) => {
        ts += l.gap;
        const last = i === l.pieces.length - 1;
        entries.push(
          entry(l.stream, ts - l.skew, last ? `${n}:${p}\n` : `${p}|`),
        );
      });
      n++;
    }
    return entries;
  });

describe('ContainerLineAssembler', () => {
  describe('push', () => {
    it('should merge partial entries of one stream into one line', () => {
      const { lines } = collect([
        entry('stdout', 1, 'a'.repeat(5)),
        entry('stderr', 2, 'err\n'),
        entry('stdout', 3, 'b\n'),
      ]);
      expect(lines.map((l) => [l.stream, l.line])).toEqual([
        ['stderr', 'err'],
        ['stdout', 'aaaaab'],
      ]);
      // The stderr line must not move the cursor past the unfinished partial.
      expect(lines[0]?.cursor).toEqual(START_CURSOR);
      expect(lines[1]?.cursor.linesAtTimestamp).toBe(3);
    });

    it('should count entries sharing a timestamp in the cursor', () => {
      const { lines } = collect([
        entry('stdout', 1, 'x\n'),
        entry('stdout', 1, 'y\n'),
        entry('stderr', 1, 'z\n'),
      ]);
      expect(lines.map((l) => l.cursor.linesAtTimestamp)).toEqual([1, 2, 3]);
    });

    test.prop([logArb, fc.nat()])(
      'should resume after any line with no gap and no duplicate',
      (entries, cutSeed) => {
        const full = collect(entries).lines;
        const cut = cutSeed % (full.length + 1);
        const cursor =
          cut === 0 ? START_CURSOR : (full[cut - 1] as AssembledLine).cursor;
        // Docker's since is inclusive: it replays every entry >= since.
        const replay =
          cursor.timestampNs === ''
            ? entries
            : entries.filter(
                (e) => compareNs(e.timestampNs, cursor.timestampNs) >= 0,
              );
        const resumed = collect(replay, cut === 0 ? undefined : cursor);
        expect(resumed.lines.map((l) => l.line)).toEqual(
          full.slice(cut).map((l) => l.line),
        );
        expect(resumed.mismatches).toEqual([]);
      },
    );

    it('should report a hash mismatch when the boundary entry changed', () => {
      const first = collect([entry('stdout', 1, 'a\n')]);
      const cursor = first.lines[0]?.cursor as ContainerCursor;
      const other = collect(
        [entry('stdout', 1, 'b\n'), entry('stdout', 2, 'c\n')],
        cursor,
      );
      expect(other.mismatches).toEqual(['hash']);
      expect(other.lines.map((l) => l.line)).toEqual(['c']);
    });
  });

  describe('flushPartials', () => {
    it('should emit an unterminated last line', () => {
      const { assembler, lines } = collect([entry('stdout', 1, 'no newline')]);
      expect(lines).toEqual([]);
      assembler.flushPartials();
      expect(lines.map((l) => l.line)).toEqual(['no newline']);
      expect(assembler.hasPartial).toBe(false);
    });
  });
});
