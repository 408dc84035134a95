import { fc, test as fcTest } from '@fast-check/vitest';
import { formatRfc3339Nano, freezeLabels } from '@lc/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type {
  LongLinePolicy,
  SplitLine,
  SplitterCounters,
} from '../../file/internal/line-splitter.js';
import { newCounters, runStage } from '../../../test/stage-run.js';
import type { StageRun } from '../../../test/stage-run.js';
import { CriStage } from './cri-stage.js';
import { createKubernetesMetrics } from './kubernetes-metrics.js';

const LABELS = {
  base: freezeLabels({ pod: 'p' }),
  stdout: freezeLabels({ pod: 'p', stream: 'stdout' }),
  stderr: freezeLabels({ pod: 'p', stream: 'stderr' }),
};
const T0 = Date.UTC(2026, 0, 1, 12);

interface Run extends StageRun {
  readonly malformed: Array<[number, string]>;
  readonly counters: SplitterCounters;
  readonly registry: Registry;
}

/** Split `bytes` (from file offset `startOffset`) into records through a CRI stage, in chunks. */
function decode(
  bytes: Buffer,
  options: {
    maxLineBytes?: number;
    policy?: LongLinePolicy;
    chunks?: readonly number[];
    startOffset?: number;
  } = {},
): Run {
  const counters = newCounters();
  const registry = new Registry();
  const malformed: Array<[number, string]> = [];
  const maxLineBytes = options.maxLineBytes ?? 1 << 20;
  const stage = new CriStage({
    path: '/p.log',
    maxLineBytes,
    policy: options.policy ?? 'truncate',
    counters,
    metrics: createKubernetesMetrics(registry),
    labels: () => LABELS,
    excluded: () => false,
    malformed: (offset, line) => malformed.push([offset, line]),
  });
  const run = runStage(stage, bytes, {
    splitterMaxBytes: maxLineBytes + 64,
    counters,
    startOffset: options.startOffset,
    chunks: options.chunks,
  });
  return { ...run, malformed, counters, registry };
}

const time = (i: number): string =>
  formatRfc3339Nano({ timestampMs: T0 + i, timestampNanos: i % 1_000_000 });

/** A message of one stream and the byte lengths of its fragments. */
interface Message {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** Where its UTF-8 bytes are cut into fragments (sorted, may split a character). */
  readonly cuts: readonly number[];
}

const message = (stream: 'stdout' | 'stderr') =>
  fc
    .record({
      text: fc
        .string({ unit: 'grapheme', maxLength: 40 })
        .map((s) => s.replace(/\n/g, ' ')),
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
    })
    .map(({ text, cuts }): Message => {
      const n = Buffer.byteLength(text);
      return {
        stream,
        text,
        cuts: [...new Set(cuts.map((c) => c % (n + 1)))].sort((a, b) => a - b),
      };
    });

/**
 * The CRI lines of two streams' messages (each message's fragments tagged
 * P, its last F), interleaved: `order` picks stdout (true) or stderr next.
 * Every line gets the next time; `firstTimes` is each message's first.
 */
function file(
  out: readonly Message[],
  err: readonly Message[],
  order: readonly boolean[],
): { bytes: Buffer; firstTimes: Map<Message, number> } {
  const fragments = (m: Message) =>
    Array.from({ length: m.cuts.length + 1 }, (_, i) => ({ m, i }));
  const streams = [out.flatMap(fragments), err.flatMap(fragments)];
  const firstTimes = new Map<Message, number>();
  const parts: Buffer[] = [];
  const next = [0, 0];
  let t = 0;
  for (let k = 0; t < streams[0]!.length + streams[1]!.length; k++) {
    let s = order.length === 0 || order[k % order.length] === true ? 0 : 1;
    if (next[s]! >= streams[s]!.length) s = 1 - s;
    const { m, i } = streams[s]![next[s]!++]!;
    if (i === 0) firstTimes.set(m, t);
    const bytes = Buffer.from(m.text, 'utf8');
    const bounds = [0, ...m.cuts, bytes.length];
    const last = i === m.cuts.length;
    parts.push(
      Buffer.from(`${time(t++)} ${m.stream} ${last ? 'F' : 'P'} `),
      bytes.subarray(bounds[i], bounds[i + 1]),
      Buffer.from('\n'),
    );
  }
  return { bytes: Buffer.concat(parts), firstTimes };
}

const texts = (records: readonly SplitLine[], stream: string): string[] =>
  records.filter((r) => r.labels?.['stream'] === stream).map((r) => r.text);

describe('CriStage', () => {
  describe('push', () => {
    fcTest.prop([
      fc.array(message('stdout'), { maxLength: 8 }),
      fc.array(message('stderr'), { maxLength: 8 }),
      fc.array(fc.boolean(), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
    ])(
      'should join any message split into P/F fragments back exactly, per stream, at the time of its first fragment',
      (out, err, order, chunks) => {
        const { bytes, firstTimes } = file(out, err, order);
        const run = decode(bytes, { chunks });
        expect(texts(run.records, 'stdout')).toEqual(out.map((m) => m.text));
        expect(texts(run.records, 'stderr')).toEqual(err.map((m) => m.text));
        const byStream = { stdout: [...out], stderr: [...err] };
        for (const r of run.records) {
          const m = byStream[r.labels?.['stream'] as 'stdout'].shift();
          const t = firstTimes.get(m as Message) as number;
          expect(r.timestampMs).toBe(T0 + t);
          expect(r.timestampNanos).toBe(t % 1_000_000);
        }
        expect(run.malformed).toEqual([]);
        expect(run.counters.invalidChars).toBe(0);
        expect(run.flush()).toEqual([]);
      },
    );

    fcTest.prop([
      fc.array(message('stdout'), { minLength: 1, maxLength: 6 }),
      fc.array(message('stderr'), { maxLength: 6 }),
      fc.array(fc.boolean(), { maxLength: 20 }),
    ])(
      'should give cursors from which a resume emits every later record again (never past a held fragment)',
      (out, err, order) => {
        const { bytes } = file(out, err, order);
        const run = decode(bytes);
        let last = 0;
        for (const [k, r] of run.records.entries()) {
          expect(r.endOffset).toBeGreaterThanOrEqual(last);
          last = r.endOffset;
          const resumed = decode(bytes.subarray(r.endOffset), {
            startOffset: r.endOffset,
          }).records;
          const later = run.records.slice(k + 1);
          for (const stream of ['stdout', 'stderr']) {
            const want = texts(later, stream);
            const got = texts(resumed, stream);
            expect(got.slice(got.length - want.length)).toEqual(want);
          }
        }
        const end = run.records.at(-1)?.endOffset;
        expect(end).toBe(bytes.length);
      },
    );

    it('should pass a line that is not CRI through with the file labels, reported with its offset', () => {
      const good = `${time(1)} stdout F ok\n`;
      const run = decode(Buffer.from(`${good}not a cri line\n${good}`));
      expect(run.records.map((r) => r.text)).toEqual([
        'ok',
        'not a cri line',
        'ok',
      ]);
      expect(run.records[1]?.labels).toBe(LABELS.base);
      expect(run.records[1]?.timestampMs).toBeUndefined();
      expect(run.malformed).toEqual([[good.length, 'not a cri line']]);
    });

    it('should keep a carriage return of the message', () => {
      const run = decode(Buffer.from(`${time(1)} stdout F crlf\r\n`));
      expect(run.records[0]?.text).toBe('crlf\r');
    });

    it('should truncate a joined line at maxLineBytes, at a character start, and count it', () => {
      const frag = 'é'.repeat(10); // 20 bytes
      const bytes = Buffer.from(
        `${time(1)} stdout P ${frag}\n${time(2)} stdout P ${frag}\n${time(3)} stdout F ${frag}\n${time(4)} stdout F short\n`,
      );
      const run = decode(bytes, { maxLineBytes: 25 });
      expect(run.records.map((r) => r.text)).toEqual(['é'.repeat(12), 'short']);
      expect(run.records[0]?.truncated).toBe(true);
      expect(run.counters.truncatedLines).toBe(1);
      expect(run.counters.invalidChars).toBe(0);
    });

    it('should skip a joined line longer than maxLineBytes with the skip policy, and count it', () => {
      const bytes = Buffer.from(
        `${time(1)} stdout P ${'x'.repeat(20)}\n${time(2)} stdout F ${'y'.repeat(20)}\n${time(3)} stderr F ${'z'.repeat(30)}\n${time(4)} stdout F short\n`,
      );
      const run = decode(bytes, { maxLineBytes: 25, policy: 'skip' });
      expect(run.records.map((r) => r.text)).toEqual(['short']);
      expect(run.records[0]?.endOffset).toBe(bytes.length);
      expect(run.counters.skippedLines).toBe(2);
    });
  });

  describe('flush', () => {
    it('should emit fragments whose F never came, earliest first, and count them', async () => {
      const bytes = Buffer.from(
        `${time(1)} stderr P err-\n${time(2)} stdout P out-\n${time(3)} stdout P more\n`,
      );
      const run = decode(bytes);
      expect(run.records).toEqual([]);
      const flushed = run.flush();
      expect(flushed.map((r) => [r.text, r.labels?.['stream']])).toEqual([
        ['err-', 'stderr'],
        ['out-more', 'stdout'],
      ]);
      // The first one must not commit past the second's fragments.
      expect(flushed[0]?.endOffset).toBe(bytes.indexOf(`${time(2)}`));
      expect(flushed[1]?.endOffset).toBe(bytes.length);
      const metric = await run.registry
        .getSingleMetric('lc_kubernetes_unterminated_lines_total')
        ?.get();
      expect(metric?.values[0]?.value).toBe(2);
    });
  });
});
