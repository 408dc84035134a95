import { fc, test as fcTest } from '@fast-check/vitest';
import { formatRfc3339Nano, freezeLabels } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import type { FakeClock } from '@lc/core/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { SplitLine } from '../../file/internal/line-splitter.js';
import { LineSplitter } from '../../file/internal/line-splitter.js';
import { newCounters, runStage } from '../../../test/stage-run.js';
import type { StageRun } from '../../../test/stage-run.js';
import type { MultilineOptions } from '../../multiline/multiline-options.js';
import { CriMultiline } from './cri-multiline.js';
import { CriStage } from './cri-stage.js';
import { createKubernetesMetrics } from './kubernetes-metrics.js';

const LABELS = {
  base: freezeLabels({ pod: 'p' }),
  stdout: freezeLabels({ pod: 'p', stream: 'stdout' }),
  stderr: freezeLabels({ pod: 'p', stream: 'stderr' }),
};
const T0 = Date.UTC(2026, 0, 1, 12);
/** A record starts at an upper-case word; indented lines continue it. */
const RULE: MultilineOptions = { startPattern: '^[A-Z]+ ' };

interface Run extends StageRun {
  /** Records the flush timer emitted. */
  readonly late: SplitLine[];
  readonly clock: FakeClock;
  readonly registry: Registry;
}

/** Decode `bytes` (from file offset `startOffset`) through a CRI stage with multiline joining. */
function decode(
  bytes: Buffer,
  options: {
    chunks?: readonly number[];
    startOffset?: number;
    behind?: () => boolean;
  } = {},
): Run {
  const counters = newCounters();
  const registry = new Registry();
  const clock = createFakeClock();
  const late: SplitLine[] = [];
  const stage = new CriStage({
    path: '/p.log',
    maxLineBytes: 1 << 20,
    policy: 'truncate',
    counters,
    metrics: createKubernetesMetrics(registry),
    labels: () => LABELS,
    malformed: () => undefined,
    multiline: new CriMultiline({
      multiline: { ...RULE, flushTimeoutMs: 1000 },
      clock,
      registry,
      emit: (lines) => late.push(...lines),
      isBehind: options.behind ?? (() => false),
      onError: (error) => {
        throw error;
      },
    }),
  });
  const run = runStage(stage, bytes, {
    splitterMaxBytes: (1 << 20) + 64,
    counters,
    startOffset: options.startOffset,
    chunks: options.chunks,
  });
  return { ...run, late, clock, registry };
}

const time = (i: number): string =>
  formatRfc3339Nano({ timestampMs: T0 + i, timestampNanos: i % 1_000_000 });

/** A multiline record of one stream: its lines, each cut into `P` fragments at `cuts`. */
interface Trace {
  readonly stream: 'stdout' | 'stderr';
  readonly lines: readonly string[];
  readonly cuts: readonly (readonly number[])[];
}

const trace = (stream: 'stdout' | 'stderr', n: number) =>
  fc
    .record({
      frames: fc.nat({ max: 3 }),
      cuts: fc.array(fc.array(fc.nat({ max: 30 }), { maxLength: 2 }), {
        minLength: 4,
        maxLength: 4,
      }),
    })
    .map(({ frames, cuts }): Trace => {
      const lines = [
        `ERROR ${stream} ${n} failed`,
        ...Array.from(
          { length: frames },
          (_, i) => `\tat ${stream}.f${i}(X.java:${n})`,
        ),
      ];
      return {
        stream,
        lines,
        cuts: lines.map((l, i) =>
          [...new Set((cuts[i] ?? []).map((c) => c % l.length))]
            .filter((c) => c > 0)
            .sort((a, b) => a - b),
        ),
      };
    });

const traces = (stream: 'stdout' | 'stderr') =>
  fc
    .nat({ max: 6 })
    .chain((n) =>
      fc.tuple(...Array.from({ length: n }, (_, i) => trace(stream, i))),
    );

/**
 * The CRI lines of two streams' traces, every line cut into its `P`
 * fragments and `F`, the streams' CRI lines interleaved by `order`. Each
 * trace's first time is in `firstTimes`.
 */
function file(
  out: readonly Trace[],
  err: readonly Trace[],
  order: readonly boolean[],
): { bytes: Buffer; firstTimes: Map<string, number> } {
  const criLines = (t: Trace) =>
    t.lines.flatMap((text, li) => {
      const bounds = [0, ...(t.cuts[li] ?? []), text.length];
      return bounds.slice(1).map((end, k) => ({
        t,
        first: li === 0 && k === 0,
        tag: end === text.length ? 'F' : 'P',
        part: text.slice(bounds[k], end),
      }));
    });
  const streams = [out.flatMap(criLines), err.flatMap(criLines)];
  const firstTimes = new Map<string, number>();
  const parts: string[] = [];
  const next = [0, 0];
  for (let k = 0, t = 0; t < streams[0]!.length + streams[1]!.length; k++) {
    let s = order.length === 0 || order[k % order.length] === true ? 0 : 1;
    if (next[s]! >= streams[s]!.length) s = 1 - s;
    const l = streams[s]![next[s]!++]!;
    if (l.first) firstTimes.set(l.t.lines.join('\n'), t);
    parts.push(`${time(t++)} ${l.t.stream} ${l.tag} ${l.part}\n`);
  }
  return { bytes: Buffer.from(parts.join('')), firstTimes };
}

const texts = (records: readonly SplitLine[], stream: string): string[] =>
  records.filter((r) => r.labels?.['stream'] === stream).map((r) => r.text);

describe('CriMultiline', () => {
  describe('push', () => {
    fcTest.prop([
      traces('stdout'),
      traces('stderr'),
      fc.array(fc.boolean(), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
    ])(
      "should join each stream's traces whole after the P/F join, at the time of their first fragment",
      (out, err, order, chunks) => {
        const { bytes, firstTimes } = file(out, err, order);
        const run = decode(bytes, { chunks });
        const all = [...run.records, ...run.flush()];
        expect(texts(all, 'stdout')).toEqual(
          out.map((t) => t.lines.join('\n')),
        );
        expect(texts(all, 'stderr')).toEqual(
          err.map((t) => t.lines.join('\n')),
        );
        for (const r of all) {
          const t = firstTimes.get(r.text) as number;
          expect([r.timestampMs, r.timestampNanos]).toEqual([
            T0 + t,
            t % 1_000_000,
          ]);
        }
        expect(run.late).toEqual([]);
      },
    );

    fcTest.prop([
      traces('stdout'),
      traces('stderr'),
      fc.array(fc.boolean(), { maxLength: 20 }),
    ])(
      'should give cursors from which a resume delivers every later trace again, whole (a crash in a trace reads it again), and nothing else but tails of traces delivered before',
      (out, err, order) => {
        const { bytes } = file(out, err, order);
        const run = decode(bytes);
        const all = [...run.records, ...run.flush()];
        let last = 0;
        for (const [k, r] of all.entries()) {
          expect(r.endOffset).toBeGreaterThanOrEqual(last);
          last = r.endOffset;
          const again = decode(bytes.subarray(r.endOffset), {
            startOffset: r.endOffset,
          });
          const resumed = [...again.records, ...again.flush()];
          const later = all.slice(k + 1);
          for (const stream of ['stdout', 'stderr'] as const) {
            const want = texts(later, stream);
            const got = texts(resumed, stream);
            expect(got.slice(got.length - want.length)).toEqual(want);
            // The rest: traces delivered up to this one, again, or the
            // tail of one whose lines (or fragments) interleave with a
            // trace of the other stream that was pending when it was
            // delivered (the cursor cannot pass that one): duplicates,
            // never a piece instead of a trace.
            const before = texts(all.slice(0, k + 1), stream);
            for (const g of got.slice(0, got.length - want.length))
              expect(before.some((b) => b.endsWith(g))).toBe(true);
            // One stream: exactly the later traces.
            if (out.length === 0 || err.length === 0) expect(got).toEqual(want);
          }
        }
        if (all.length > 0) expect(last).toBe(bytes.length);
      },
    );

    it('should hold the file back to the first pending line of either stream', () => {
      const head = `${time(0)} stdout F INFO one\n`;
      const bytes = Buffer.from(
        `${head}${time(1)} stderr F ERROR two\n${time(2)} stderr P \tat `,
      );
      const counters = newCounters();
      const stage = new CriStage({
        path: '/p.log',
        maxLineBytes: 1024,
        policy: 'truncate',
        counters,
        metrics: createKubernetesMetrics(new Registry()),
        labels: () => LABELS,
        malformed: () => undefined,
        multiline: new CriMultiline({
          multiline: RULE,
          clock: createFakeClock(),
          registry: undefined,
          emit: () => undefined,
          isBehind: () => false,
          onError: () => undefined,
        }),
      });
      const splitter = new LineSplitter(
        'utf8',
        2048,
        'truncate',
        counters,
        0,
        0,
        stage,
      );
      const out: SplitLine[] = [];
      splitter.feed(bytes, out);
      // Both records wait for a next line: held from the first one.
      expect(out).toEqual([]);
      expect(splitter.lineStartOffset).toBe(0);
      splitter.feed(Buffer.from(`A\n${time(3)} stdout F INFO three\n`), out);
      // "INFO one" is complete; stderr's trace still holds from its start.
      expect(out.map((r) => r.text)).toEqual(['INFO one']);
      expect(out[0]?.endOffset).toBe(head.length);
      expect(splitter.lineStartOffset).toBe(head.length);
    });
  });

  describe('flush timer', () => {
    it('should emit a pending trace after its timeout through emit, not while the file is behind, counted as timeout', async () => {
      let behind = true;
      const bytes = Buffer.from(
        `${time(0)} stdout F ERROR x\n${time(1)} stdout F \tat a\n`,
      );
      const run = decode(bytes, { behind: () => behind });
      expect(run.records).toEqual([]);
      run.clock.advance(1000);
      expect(run.late).toEqual([]);
      behind = false;
      run.clock.advance(1000);
      expect(run.late.map((r) => [r.text, r.endOffset])).toEqual([
        ['ERROR x\n\tat a', bytes.length],
      ]);
      const metric = await run.registry
        .getSingleMetric('lc_multiline_flushes_total')
        ?.get();
      expect(metric?.values[0]).toMatchObject({
        labels: { source: 'kubernetes', reason: 'timeout' },
        value: 1,
      });
      expect(run.flush()).toEqual([]);
    });
  });
});
