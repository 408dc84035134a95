import { LcError, WriteResults } from '@lc/core';
import type { LogRecord, Sink } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { dispatcherScope, eventually, offset, rec } from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';
import type { DispatcherOptions } from './dispatcher-options.js';

// When a full intake spills (spill.trigger: 'risk', the default): only while
// the spill protects something — a failing sink or a source at risk. A sink
// that is merely slow pauses the sources, as without a spill.

const { live, dirs } = dispatcherScope('lc-spill-trigger-');

/**
 * A sink whose writes wait until `open()` (slow, never failing) or, with
 * `failing`, answer retryable until `open()`.
 */
function testSink(failing: boolean): Sink & {
  open(): void;
  records: LogRecord[];
} {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let opened = false;
  const records: LogRecord[] = [];
  return {
    name: 'out',
    records,
    open() {
      opened = true;
      release();
    },
    async write(batch) {
      if (!opened && failing)
        return WriteResults.retryable(
          new LcError({ code: 'LC_ERR_SINK_UNAVAILABLE', message: 'down' }),
          5,
        );
      if (!opened) await gate;
      records.push(...batch);
      return WriteResults.success();
    },
    async flush() {},
    async shutdown() {
      release();
    },
  };
}

/** A source that honours backpressure: dispatch, and wait when refused. */
async function produce(d: Dispatcher, count: number): Promise<void> {
  for (let n = 1; n <= count; n++)
    if (!d.dispatch(rec(n))) await d.whenWritable();
}

async function make(
  sink: Sink,
  spill: Partial<NonNullable<DispatcherOptions['spill']>>,
): Promise<Dispatcher> {
  const d = createDispatcher({
    sinks: [sink],
    maxQueueRecords: 20,
    batchMaxRecords: 10,
    batchTimeoutMs: 1,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    spill: { directory: await dirs.make(), ...spill },
  });
  live.push(d);
  await d.start();
  return d;
}

const range = (n: number): number[] =>
  Array.from({ length: n }, (_, i) => i + 1);

describe('createDispatcher', () => {
  describe('spill trigger', () => {
    it('should pause the sources instead of spilling while the sink is healthy but slow', async () => {
      const sink = testSink(false);
      const d = await make(sink, {});
      const producing = produce(d, 300);
      await eventually(() => !d.stats().writable, 10_000, 'backpressure');
      expect(d.stats().spilledTotal).toBe(0);
      sink.open();
      await producing;
      await d.flush();
      expect(sink.records.map(offset)).toEqual(range(300));
      expect(d.stats().spilledTotal).toBe(0);
    });

    it('should spill once the sink fails, then deliver every record once, in order, after it recovers', async () => {
      const sink = testSink(true);
      const d = await make(sink, {});
      const producing = produce(d, 500);
      // The sink's failures trigger the spill: the source is not paused
      // for long, it reads on into the disk buffer.
      await eventually(
        () => d.stats().spilledTotal >= 200,
        20_000,
        'records spilled while the sink fails',
      );
      sink.open();
      await producing;
      await d.flush();
      expect(sink.records.map(offset)).toEqual(range(500));
      expect(d.stats().spilledRecords).toBe(0);
    });

    it('should spill with a healthy sink while atRisk() says a source may lose data, and only then', async () => {
      const sink = testSink(false);
      let risky = false;
      let asked = 0;
      const d = await make(sink, {
        atRisk: () => {
          asked++;
          return risky;
        },
      });
      const producing = produce(d, 300);
      await eventually(() => !d.stats().writable, 10_000, 'backpressure');
      expect(d.stats().spilledTotal).toBe(0);
      // A file rotates away meanwhile: the waiting source is let on into
      // the spill without any batch settling (the trigger is looked at
      // again while sources wait).
      const askedBefore = asked;
      risky = true;
      await eventually(
        () => d.stats().spilledTotal > 0,
        20_000,
        'records spilled once at risk',
      );
      expect(asked).toBeGreaterThan(askedBefore);
      sink.open();
      await producing;
      await d.flush();
      expect(sink.records.map(offset)).toEqual(range(300));
    });

    it('should spill whenever the intake is full with trigger backpressure', async () => {
      const sink = testSink(false);
      const d = await make(sink, { trigger: 'backpressure' });
      const producing = produce(d, 300);
      await eventually(
        () => d.stats().spilledTotal > 0,
        10_000,
        'records spilled',
      );
      sink.open();
      await producing;
      await d.flush();
      expect(sink.records.map(offset)).toEqual(range(300));
    });

    it('should reject an unknown trigger or an atRisk that is not a function', () => {
      const code = (spill: object): string | undefined => {
        try {
          createDispatcher({
            sinks: [testSink(false)],
            spill: { directory: '/tmp/x', ...spill },
          });
          return undefined;
        } catch (error) {
          return (error as LcError).code;
        }
      };
      expect(code({ trigger: 'sometimes' })).toBe('LC_ERR_INVALID_OPTION');
      expect(code({ atRisk: true })).toBe('LC_ERR_INVALID_OPTION');
    });
  });
});
