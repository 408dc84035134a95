import { fc, test as fcTest } from '@fast-check/vitest';
import { formatRfc3339Nano, freezeLabels } from '@lc/core';
import { describe, expect, it } from 'vitest';
import type {
  LongLinePolicy,
  SplitLine,
  SplitterCounters,
} from '../../file/internal/line-splitter.js';
import { newCounters, runStage } from '../../../test/stage-run.js';
import type { StageRun } from '../../../test/stage-run.js';
import type { ApiResumePoint } from './json-file-stage.js';
import { JsonFileStage } from './json-file-stage.js';

const LABELS = {
  base: freezeLabels({ container_name: 'c' }),
  stdout: freezeLabels({ container_name: 'c', stream: 'stdout' }),
  stderr: freezeLabels({ container_name: 'c', stream: 'stderr' }),
};
const T0 = Date.UTC(2026, 0, 1, 12);
const time = (i: number): string =>
  formatRfc3339Nano({ timestampMs: T0 + i, timestampNanos: i % 1_000_000 });

/** One json-file entry as the engine writes it. */
const entry = (log: string, stream: 'stdout' | 'stderr', i: number): string =>
  `${JSON.stringify({ log, stream, time: time(i) })}\n`;

interface Run extends StageRun {
  readonly malformed: Array<[number, string]>;
  readonly counters: SplitterCounters;
}

function decode(
  text: string,
  options: {
    maxLineBytes?: number;
    policy?: LongLinePolicy;
    startOffset?: number;
    apiResume?: ApiResumePoint;
    captured?: boolean;
  } = {},
): Run {
  const counters = newCounters();
  const malformed: Array<[number, string]> = [];
  const maxLineBytes = options.maxLineBytes ?? 1 << 20;
  const stage = new JsonFileStage({
    maxLineBytes,
    policy: options.policy ?? 'truncate',
    counters,
    labels: () => LABELS,
    captured: () => options.captured ?? true,
    onJoined: () => undefined,
    onUnterminated: () => undefined,
    malformed: (offset, line) => malformed.push([offset, line]),
    ...(options.apiResume === undefined
      ? {}
      : { apiResume: () => options.apiResume }),
  });
  const run = runStage(stage, Buffer.from(text), {
    splitterMaxBytes: maxLineBytes * 2 + 256,
    counters,
    startOffset: options.startOffset,
  });
  return { ...run, malformed, counters };
}

describe('JsonFileStage', () => {
  describe('push', () => {
    it('should give each entry its time, stream label and text without the newline', () => {
      const run = decode(entry('a\n', 'stdout', 1) + entry('b\n', 'stderr', 2));
      expect(run.records).toEqual([
        expect.objectContaining({
          text: 'a',
          labels: LABELS.stdout,
          timestampMs: T0 + 1,
          timestampNanos: 1,
        }),
        expect.objectContaining({ text: 'b', labels: LABELS.stderr }),
      ]);
    });

    it("should join partial entries per stream, at the first one's time, with cursors never past a held partial", () => {
      const a = entry('one-', 'stdout', 1);
      const b = entry('err\n', 'stderr', 2);
      const c = entry('two\n', 'stdout', 3);
      const run = decode(a + b + c);
      expect(run.records.map((r) => [r.text, r.endOffset])).toEqual([
        // While stdout holds `one-`, stderr's line ends where it began.
        ['err', 0],
        ['one-two', a.length + b.length + c.length],
      ]);
      expect(run.records[1]?.timestampMs).toBe(T0 + 1);
    });

    it('should emit a partial without its end when the file ends (flush)', () => {
      const run = decode(entry('no newline', 'stdout', 1));
      expect(run.records).toEqual([]);
      expect(run.flush().map((r) => r.text)).toEqual(['no newline']);
    });

    it('should apply the long-line policy to joined lines', () => {
      const parts =
        entry('x'.repeat(20), 'stdout', 1) +
        entry('y'.repeat(20) + '\n', 'stdout', 2);
      expect(
        decode(parts, { maxLineBytes: 30 }).records.map((r) => [
          r.text.length,
          r.truncated,
        ]),
      ).toEqual([[30, true]]);
      const skipped = decode(parts, { maxLineBytes: 30, policy: 'skip' });
      expect(skipped.records).toEqual([]);
      expect(skipped.counters.skippedLines).toBe(1);
    });

    it('should pass a line that is not json-file through, without a stream label, and report it', () => {
      const run = decode('plain\n');
      expect(run.records.map((r) => [r.text, r.labels])).toEqual([
        ['plain', LABELS.base],
      ]);
      expect(run.malformed).toEqual([[0, 'plain']]);
    });

    it('should cut a line that is not json-file at maxLineBytes on a character start (or skip it), reporting its first 256 characters', () => {
      const line = `${'é'.repeat(200)}${'x'.repeat(300)}`;
      const run = decode(`${line}\n`, { maxLineBytes: 301 });
      expect(run.records.map((r) => [r.text, r.truncated])).toEqual([
        ['é'.repeat(150), true],
      ]);
      expect(run.counters.truncatedLines).toBe(1);
      expect(run.malformed).toEqual([[0, 'é'.repeat(150)]]);
      const skipped = decode(`${line}\n`, {
        maxLineBytes: 301,
        policy: 'skip',
      });
      expect(skipped.records).toEqual([]);
      expect(skipped.counters.skippedLines).toBe(1);
      expect(skipped.malformed).toEqual([[0, 'é'.repeat(128)]]);
    });

    it('should drop the lines of an excluded container without decoding them (no malformed report)', () => {
      const run = decode(
        `${entry('a\n', 'stdout', 1)}not json\n${entry('part', 'stderr', 2)}`,
        { captured: false },
      );
      expect(run.records).toEqual([]);
      expect(run.malformed).toEqual([]);
      expect(run.flush()).toEqual([]);
    });

    it('should skip what the API mode read: before the resume time, then the first entries at or after it', () => {
      const text =
        entry('old\n', 'stdout', 1) +
        entry('at-1\n', 'stdout', 5) +
        entry('at-2\n', 'stderr', 5) +
        entry('late-but-earlier\n', 'stderr', 4) +
        entry('new\n', 'stdout', 6);
      const resume: ApiResumePoint = {
        timestampMs: T0 + 5,
        timestampNanos: 5,
        lines: 1,
        passed: false,
      };
      expect(
        decode(text, { apiResume: resume }).records.map((r) => r.text),
      ).toEqual(['at-2', 'late-but-earlier', 'new']);
      expect(resume.passed).toBe(true);
    });
  });

  fcTest.prop([
    fc.array(
      fc.record({
        stream: fc.constantFrom<'stdout' | 'stderr'>('stdout', 'stderr'),
        text: fc.string({ maxLength: 12 }).map((s) => s.replace(/\n/g, ' ')),
        parts: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    fc.nat(),
  ])(
    'should lose no line when read again from any committed cursor (duplicates only)',
    (messages, pick) => {
      // Each message written as `parts` entries (partials then the end);
      // a stream's entries are in order, the two streams interleave.
      let text = '';
      let i = 0;
      const queue = (stream: string): string[] =>
        messages
          .filter((m) => m.stream === stream)
          .flatMap((m) => {
            const size = Math.ceil(m.text.length / m.parts) || 1;
            const chunks: string[] = [];
            for (let k = 0; k < m.text.length; k += size)
              chunks.push(m.text.slice(k, k + size));
            if (chunks.length === 0) chunks.push('');
            chunks[chunks.length - 1] += '\n';
            return chunks;
          });
      const queues = { stdout: queue('stdout'), stderr: queue('stderr') };
      for (let k = 0; queues.stdout.length + queues.stderr.length > 0; k++) {
        let stream: 'stdout' | 'stderr' =
          ((pick >> (k % 16)) & 1) === 0 ? 'stdout' : 'stderr';
        if (queues[stream].length === 0)
          stream = stream === 'stdout' ? 'stderr' : 'stdout';
        text += entry(queues[stream].shift() as string, stream, i++);
      }
      const all = decode(text).records;
      const want = (stream: string) =>
        messages.filter((m) => m.stream === stream).map((m) => m.text);
      const got = (rs: SplitLine[], stream: string) =>
        rs.filter((r) => r.labels?.['stream'] === stream).map((r) => r.text);
      expect(got(all, 'stdout')).toEqual(want('stdout'));
      expect(got(all, 'stderr')).toEqual(want('stderr'));
      // Resume from the cursor of any record: what came after it is read again.
      const cut = all[pick % all.length] as SplitLine;
      const bytes = Buffer.from(text);
      const again = decode(bytes.subarray(cut.endOffset).toString(), {
        startOffset: cut.endOffset,
      }).records;
      const before = all.slice(0, all.indexOf(cut) + 1);
      for (const stream of ['stdout', 'stderr']) {
        const seen = [...got(before, stream), ...got(again, stream)];
        // Everything is there, in order, possibly with lines repeated.
        let k = 0;
        for (const t of seen) if (t === want(stream)[k]) k++;
        expect(k).toBe(want(stream).length);
      }
    },
  );
});
