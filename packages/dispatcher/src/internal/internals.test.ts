import { fc, test } from '@fast-check/vitest';
import { createFakeClock } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { rec } from '../../test/helpers.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitState } from './circuit-breaker.js';
import { DedupCache } from './dedup-cache.js';
import { MinHeap } from './min-heap.js';
import { RetryQueue } from './retry-queue.js';
import { TokenBucket } from './token-bucket.js';

describe('MinHeap', () => {
  test.prop([
    fc.array(fc.integer(), { maxLength: 300 }),
    fc.array(fc.boolean(), { maxLength: 600 }),
  ])(
    'MinHeap: pops in ascending order under interleaved pushes and pops',
    (values, ops) => {
      const heap = new MinHeap<number>((a, b) => a < b);
      const model: number[] = [];
      let i = 0;
      for (const push of ops) {
        if (push && i < values.length) {
          heap.push(values[i] as number);
          model.push(values[i] as number);
          i++;
        } else {
          model.sort((a, b) => a - b);
          expect(heap.pop()).toBe(model.shift());
        }
        expect(heap.size).toBe(model.length);
      }
    },
  );
});

describe('DedupCache', () => {
  describe('isDuplicate', () => {
    it('should forget records after ttlMs and evict the oldest beyond maxEntries', () => {
      const cache = new DedupCache(1000, 2);
      expect(cache.isDuplicate(rec(1), 0)).toBe(false);
      expect(cache.isDuplicate(rec(1), 500)).toBe(true);
      expect(cache.isDuplicate(rec(1), 1500)).toBe(false);
      expect(cache.isDuplicate(rec(2), 1500)).toBe(false);
      expect(cache.isDuplicate(rec(3), 1500)).toBe(false);
      expect(cache.size).toBe(2);
      // rec(1) was the oldest entry: evicted, so no longer a duplicate.
      expect(cache.isDuplicate(rec(1), 1600)).toBe(false);
      // Same line and timestamp from another source is not a duplicate.
      expect(cache.isDuplicate(rec(3, 'other'), 1600)).toBe(false);
    });
  });
});

describe('TokenBucket', () => {
  describe('take', () => {
    it('should allow burst tokens then refill at the rate', () => {
      const bucket = new TokenBucket(10, 2, 0);
      expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
        true,
        true,
        false,
      ]);
      expect(bucket.take(50)).toBe(false);
      expect(bucket.take(100)).toBe(true);
    });
  });
});

describe('CircuitBreaker', () => {
  describe('onRetryableFailure', () => {
    it('should open at the threshold, half-open after openMs with one probe, close on success', () => {
      const clock = createFakeClock();
      const states: CircuitState[] = [];
      const cb = new CircuitBreaker({
        failureThreshold: 2,
        openMs: 100,
        clock,
        onChange: (s) => states.push(s),
      });
      cb.onRetryableFailure();
      expect(cb.allows()).toBe(true);
      cb.onRetryableFailure();
      expect(cb.state).toBe('open');
      expect(cb.allows()).toBe(false);
      clock.advance(100);
      expect(cb.state).toBe('half-open');
      expect(cb.allows()).toBe(true);
      cb.onAttempt();
      expect(cb.allows()).toBe(false);
      cb.onRetryableFailure();
      expect(cb.state).toBe('open');
      clock.advance(100);
      cb.onAttempt();
      cb.onSuccess();
      expect(cb.state).toBe('closed');
      expect(cb.outageSinceMs).toBe(0);
      expect(states).toEqual([
        'open',
        'half-open',
        'open',
        'half-open',
        'closed',
      ]);
    });

    it('should never open when failureThreshold is 0', () => {
      const clock = createFakeClock();
      const cb = new CircuitBreaker({
        failureThreshold: 0,
        openMs: 100,
        clock,
        onChange: () => undefined,
      });
      for (let i = 0; i < 50; i++) cb.onRetryableFailure();
      expect(cb.state).toBe('closed');
    });
  });
});

describe('RetryQueue', () => {
  describe('push', () => {
    it('should keep one timer for any number of entries and deliver them in time order', () => {
      const clock = createFakeClock();
      const fired: number[] = [];
      const queue = new RetryQueue<{
        id: number;
        inRetryQueue: boolean;
        retryToken: number;
      }>(clock, (due) => fired.push(...due.map((d) => d.id)));
      const items = Array.from({ length: 1000 }, (_, id) => ({
        id,
        inRetryQueue: false,
        retryToken: 0,
      }));
      for (const item of items)
        queue.push(item, clock.now() + ((item.id * 7919) % 1000) + 1);
      expect(clock.pendingTimers).toBe(1);
      expect(queue.size).toBe(1000);
      queue.cancel(items[5] as (typeof items)[number]);
      // Re-pushing replaces the earlier schedule.
      queue.push(items[6] as (typeof items)[number], clock.now() + 5000);
      clock.advance(1000);
      expect(fired).toHaveLength(998);
      expect(fired).not.toContain(5);
      const times = fired.map((id) => (id * 7919) % 1000);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      clock.advance(4000);
      expect(fired).toContain(6);
      expect(queue.size).toBe(0);
      expect(clock.pendingTimers).toBe(0);
    });
  });
});
