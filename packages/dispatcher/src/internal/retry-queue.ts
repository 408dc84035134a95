import type { Clock, TimerHandle } from '@lc/core';
import { MinHeap } from './min-heap.js';

/** What the queue needs to know about an entry. */
export interface RetryItem {
  /** In the queue (entries carrying an older token are stale). */
  inRetryQueue: boolean;
  retryToken: number;
}

interface Entry<T> {
  readonly at: number;
  readonly item: T;
  readonly token: number;
}

/**
 * The one retry queue of a dispatcher: a heap ordered by next attempt time
 * and a single timer armed for the earliest entry. No per-failure timers or
 * promises. Cancelled or re-pushed entries are skipped lazily.
 */
export class RetryQueue<T extends RetryItem> {
  private readonly heap = new MinHeap<Entry<T>>((a, b) => a.at < b.at);
  private readonly clock: Clock;
  private readonly onDue: (items: T[]) => void;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private live = 0;
  private stopped = false;

  constructor(clock: Clock, onDue: (items: T[]) => void) {
    this.clock = clock;
    this.onDue = onDue;
  }

  /** Entries waiting (not counting stale heap slots). */
  get size(): number {
    return this.live;
  }

  /** Schedule `item` at `atMs` (clock.now() time), replacing any earlier schedule. */
  push(item: T, atMs: number): void {
    if (!item.inRetryQueue) this.live++;
    item.inRetryQueue = true;
    item.retryToken++;
    this.heap.push({ at: atMs, item, token: item.retryToken });
    this.arm();
  }

  /**
   * Make the waiting entries `match` selects due now: all of them, or the
   * `limit` earliest. Returns how many were moved.
   */
  hurry(match: (item: T) => boolean, limit = Infinity): number {
    const now = this.clock.now();
    const waiting = this.heap
      .values()
      .filter(
        (e) =>
          e.token === e.item.retryToken &&
          e.item.inRetryQueue &&
          e.at > now &&
          match(e.item),
      );
    if (limit < waiting.length) waiting.sort((a, b) => a.at - b.at);
    const moved = waiting.slice(0, limit);
    for (const e of moved) this.push(e.item, now);
    return moved.length;
  }

  /** Take `item` out (its heap slot becomes stale). */
  cancel(item: T): void {
    if (!item.inRetryQueue) return;
    item.inRetryQueue = false;
    this.live--;
  }

  /** Clear the timer; nothing fires after this. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    const top = this.heap.peek();
    if (top === undefined || top.at >= this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = top.at;
    const timer = this.clock.setTimeout(
      () => this.fire(),
      Math.max(0, top.at - this.clock.now()),
    );
    timer.unref();
    this.timer = timer;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.clock.now();
    const due: T[] = [];
    for (
      let top = this.heap.peek();
      top !== undefined && top.at <= now;
      top = this.heap.peek()
    ) {
      this.heap.pop();
      const item = top.item;
      if (top.token !== item.retryToken || !item.inRetryQueue) continue;
      item.inRetryQueue = false;
      this.live--;
      due.push(item);
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }
}
