import type { Clock, LogRecord } from '@lc/core';
import type { RateLimitOptions } from '../dispatcher-options.js';
import type { AckTracker } from './ack-tracker.js';
import type { Batcher } from './batcher.js';
import { trackAs } from './batcher.js';
import type { SpillAck } from './spill-setup.js';
import { DedupCache } from './dedup-cache.js';
import type { DropCounter } from './drop-counter.js';
import { recordBytes } from './intake-budget.js';
import type { IntakeBudget } from './intake-budget.js';
import type { ResolvedOptions } from './resolve-options.js';
import { TokenBucket } from './token-bucket.js';

/** What an {@link Admission} needs. */
export interface AdmissionSetup {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly tracker: AckTracker;
  readonly budget: IntakeBudget;
  readonly batcher: Batcher;
  readonly drops: DropCounter;
  /** drop_oldest: evict the oldest evictable batch; false when none is. */
  readonly evictOldest: () => boolean;
  /** Whether any route is configured. */
  readonly routed: boolean;
}

/**
 * The intake's admission of one record: rate limit, dedup and the drop
 * policy (each drop counted and acknowledged in order, so the watermark
 * moves past it), then routing into the batcher.
 */
export class Admission {
  private readonly s: AdmissionSetup;
  /** No rate limit, dedup, drop policy or routes: the fast path. */
  private readonly plain: boolean;
  private readonly rateLimit: RateLimitOptions | undefined;
  private readonly dedup: DedupCache | undefined;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(setup: AdmissionSetup) {
    this.s = setup;
    const o = setup.options;
    this.rateLimit = o.rateLimit;
    this.dedup =
      o.dedup === undefined
        ? undefined
        : new DedupCache(o.dedup.ttlMs, o.dedup.maxEntries);
    this.plain =
      this.rateLimit === undefined &&
      this.dedup === undefined &&
      o.dropPolicy === 'block' &&
      !setup.routed &&
      setup.batcher.defaultGroup.lanes.length > 0;
  }

  /**
   * Admit `record` into a batch, or drop it (counted). `ack`: how a record
   * coming back from the spill is acknowledged (see `SpillAck`).
   */
  accept(record: LogRecord, ack?: SpillAck): void {
    const s = this.s;
    if (this.plain) {
      s.batcher.enqueue(
        record,
        s.batcher.defaultGroup,
        recordBytes(record),
        ack,
      );
      return;
    }
    if (this.rateLimit !== undefined && !this.takeToken(record)) {
      this.drop(record, 'rate_limited', ack);
      return;
    }
    if (this.dedup?.isDuplicate(record, s.clock.now()) === true) {
      this.drop(record, 'duplicate', ack);
      return;
    }
    const bytes = recordBytes(record);
    const policy = s.options.dropPolicy;
    if (policy !== 'block' && s.budget.overForDropPolicy()) {
      if (policy === 'drop_newest' || !s.evictOldest()) {
        this.drop(record, 'drop_newest', ack);
        return;
      }
    }
    const group = s.batcher.routeFor(record.labels);
    if (group.lanes.length === 0) {
      this.drop(record, 'unrouted', ack);
      return;
    }
    s.batcher.enqueue(record, group, bytes, ack);
  }

  private drop(record: LogRecord, reason: string, ack: SpillAck): void {
    trackAs(this.s.tracker, record, 0, ack);
    this.s.drops.count(reason, 1);
  }

  private takeToken(record: LogRecord): boolean {
    const rl = this.rateLimit as RateLimitOptions;
    const key =
      rl.scope === 'global'
        ? ''
        : `${record.source.kind}\u0000${record.source.id}`;
    let bucket = this.buckets.get(key);
    const now = this.s.clock.monotonicNow();
    if (bucket === undefined) {
      bucket = new TokenBucket(
        rl.recordsPerSecond,
        rl.burst ?? rl.recordsPerSecond,
        now,
      );
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }
}
