import { createFakeClock } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { TickScheduler } from './tick-scheduler.js';

/** A scheduler whose passes end when the test says so. */
function harness(idleDelayMs: number) {
  const clock = createFakeClock();
  const started: number[] = [];
  let finish: (() => void) | undefined;
  const scheduler = new TickScheduler({
    clock,
    onError: (error) => {
      throw error;
    },
    pass: () =>
      new Promise<boolean>((resolve) => {
        started.push(clock.monotonicNow());
        finish = () => resolve(false);
      }),
    canSchedule: () => true,
    isStopped: () => false,
    idleDelayMs: () => idleDelayMs,
  });
  const endPass = async (): Promise<void> => {
    finish?.();
    finish = undefined;
    await new Promise((r) => setImmediate(r));
  };
  return { clock, started, scheduler, endPass };
}

describe('TickScheduler', () => {
  describe('request', () => {
    it('should gather requests with a delay into one pass, not one per request', async () => {
      const { clock, started, scheduler, endPass } = harness(1000);
      const t0 = clock.monotonicNow();
      for (let i = 0; i < 10; i++) {
        scheduler.request(250);
        clock.advance(10);
      }
      clock.advance(150);
      expect(started).toEqual([t0 + 250]);
      await endPass();
    });

    it('should honour a delayed request made during a pass after it, before the idle delay', async () => {
      const { clock, started, scheduler, endPass } = harness(1000);
      scheduler.request(0);
      clock.advance(0);
      expect(started).toHaveLength(1);
      scheduler.request(250); // an fs.watch event while the pass runs
      await endPass();
      clock.advance(249);
      expect(started).toHaveLength(1);
      clock.advance(1);
      expect(started).toHaveLength(2);
      await endPass();
    });
  });
});
