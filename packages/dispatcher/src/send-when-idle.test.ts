import { createFakeClock, createInMemorySink } from '@lc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recs } from '../test/helpers.js';
import { createDispatcher } from './create-dispatcher.js';
import type { Dispatcher } from './dispatcher.js';

let d: Dispatcher | undefined;
afterEach(async () => {
  await d?.shutdown();
  d = undefined;
});

const settle = () => new Promise((r) => setImmediate(r));

describe('createDispatcher', () => {
  describe('sendWhenIdle', () => {
    it('should send the first records at once when the sink is idle, then batch by timeout', async () => {
      const clock = createFakeClock();
      const sink = createInMemorySink();
      d = createDispatcher({ sinks: [sink], clock, batchTimeoutMs: 1000 });
      await d.start();
      // One dispatch call: its records go out together, without a timer.
      d.dispatchMany(recs(0, 3));
      await eventually(() => sink.records.length === 3);
      expect(sink.calls).toHaveLength(1);
      // Busy since: the next records wait for the batch timeout.
      d.dispatchMany(recs(3, 2));
      await settle();
      await settle();
      expect(sink.records).toHaveLength(3);
      clock.advance(1000);
      await eventually(() => sink.records.length === 5);
      await settle(); // the write settles after the sink has the records
      // Quiet for a batch timeout again: the next first record goes at once.
      clock.advance(1000);
      d.dispatchMany(recs(5, 1));
      await eventually(() => sink.records.length === 6);
    });

    it('should wait for the batch timeout when off', async () => {
      const clock = createFakeClock();
      const sink = createInMemorySink();
      d = createDispatcher({
        sinks: [sink],
        clock,
        batchTimeoutMs: 1000,
        sendWhenIdle: false,
      });
      await d.start();
      d.dispatchMany(recs(0, 3));
      for (let i = 0; i < 5; i++) await settle();
      expect(sink.records).toHaveLength(0);
      clock.advance(1000);
      await eventually(() => sink.records.length === 3);
    });
  });
});
