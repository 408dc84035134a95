import type { Clock, Labels, LogRecord, TimerHandle } from '@lc/core';
import type { RouteOptions } from '../dispatcher-options.js';
import type { AckItem, AckTracker } from './ack-tracker.js';
import type { IntakeBudget } from './intake-budget.js';
import { queuedOn } from './lanes.js';
import type { SpillAck } from './spill-setup.js';
import type { Batch, Lane } from './model.js';

/** Records going to the same set of sinks, filling one open batch. */
export interface Group {
  readonly lanes: readonly Lane[];
  records: LogRecord[];
  acks: AckItem[];
  bytes: number;
  firstAcceptedMs: number;
  timer: TimerHandle | undefined;
  /** Pending close at the end of this turn (`sendWhenIdle`). */
  soon: NodeJS.Immediate | undefined;
  /** Monotonic ms of the last batch closed; -Infinity before the first. */
  lastClosedMs: number;
}

/** What a {@link Batcher} needs. */
export interface BatcherSetup {
  readonly clock: Clock;
  readonly tracker: AckTracker;
  readonly budget: IntakeBudget;
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly routes: readonly RouteOptions[];
  readonly defaultSinks: readonly string[];
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchTimeoutMs: number;
  /** Close at once (after this turn) a batch whose sinks are idle. */
  readonly sendWhenIdle: boolean;
  /** A batch was closed: hand it on (WAL, then the lanes). */
  readonly onClosed: (batch: Batch) => void;
}

function matches(route: RouteOptions, labels: Labels): boolean {
  for (const [key, want] of Object.entries(route.match)) {
    const value = labels[key];
    if (value === undefined) return false;
    if (typeof want === 'string' ? value !== want : !want.test(value))
      return false;
  }
  return true;
}

/**
 * Routes records to groups (one per set of sinks) and closes each group's
 * open batch on `batchMaxRecords`, `batchMaxBytes` or `batchTimeoutMs`,
 * whichever comes first.
 */
export class Batcher {
  /** The group of records no route matches. */
  readonly defaultGroup: Group;
  private readonly setup: BatcherSetup;
  private readonly groups = new Map<string, Group>();
  private readonly groupByLabels = new WeakMap<Labels, Group>();
  private readonly runId = Math.random().toString(36).slice(2, 10);
  private seq = 0;

  constructor(setup: BatcherSetup) {
    this.setup = setup;
    this.defaultGroup = this.groupFor(setup.defaultSinks);
  }

  /** The sequence number the next batch gets (batches close in this order). */
  get nextSeq(): number {
    return this.seq;
  }

  /** Reserve a sequence number for a batch made elsewhere (recovery). */
  takeSeq(): number {
    return this.seq++;
  }

  /** The group of the sinks every route matching `labels` names. */
  routeFor(labels: Labels): Group {
    if (this.setup.routes.length === 0) return this.defaultGroup;
    const cached = this.groupByLabels.get(labels);
    if (cached !== undefined) return cached;
    const names = new Set<string>();
    for (const route of this.setup.routes) {
      if (matches(route, labels)) for (const n of route.sinks) names.add(n);
    }
    const group =
      names.size === 0 ? this.defaultGroup : this.groupFor([...names]);
    this.groupByLabels.set(labels, group);
    return group;
  }

  /**
   * Track `record` (as `ack` says, for records back from the spill), count
   * it as held and add it to `group`'s open batch.
   */
  enqueue(
    record: LogRecord,
    group: Group,
    bytes: number,
    ack?: SpillAck,
  ): void {
    const s = this.setup;
    // Keep batches within batchMaxBytes (a single larger record goes alone).
    if (group.records.length > 0 && group.bytes + bytes > s.batchMaxBytes)
      this.close(group);
    const item = trackAs(s.tracker, record, group.lanes.length, ack);
    s.budget.held++;
    s.budget.heldBytes += bytes;
    if (group.records.length === 0) {
      group.firstAcceptedMs = s.clock.monotonicNow();
      if (this.idle(group)) {
        // The rest of this dispatch call still joins the batch.
        group.soon = setImmediate(() => {
          group.soon = undefined;
          this.close(group);
        });
        group.soon.unref();
      }
      if (s.batchTimeoutMs > 0) {
        const timer = s.clock.setTimeout(() => {
          group.timer = undefined;
          this.close(group);
        }, s.batchTimeoutMs);
        timer.unref();
        group.timer = timer;
      }
    }
    group.records.push(record);
    group.acks.push(item);
    group.bytes += bytes;
    if (
      group.records.length >= s.batchMaxRecords ||
      group.bytes >= s.batchMaxBytes ||
      s.batchTimeoutMs === 0
    ) {
      this.close(group);
    }
  }

  /** Close every open batch now. */
  closeAll(): void {
    for (const group of this.groups.values()) this.close(group);
  }

  /**
   * True when `sendWhenIdle` applies: every sink of the group has nothing
   * in flight or waiting, and none got a batch of it for `batchTimeoutMs`.
   */
  private idle(group: Group): boolean {
    const s = this.setup;
    if (!s.sendWhenIdle || s.batchTimeoutMs === 0) return false;
    if (group.firstAcceptedMs - group.lastClosedMs < s.batchTimeoutMs)
      return false;
    return group.lanes.every((l) => l.inflight === 0 && queuedOn(l) === 0);
  }

  private close(group: Group): void {
    if (group.records.length === 0) return;
    const s = this.setup;
    if (group.timer !== undefined) {
      s.clock.clearTimeout(group.timer);
      group.timer = undefined;
    }
    if (group.soon !== undefined) {
      clearImmediate(group.soon);
      group.soon = undefined;
    }
    group.lastClosedMs = s.clock.monotonicNow();
    const seq = this.seq++;
    const batch: Batch = {
      id: `${this.runId}-${seq}`,
      seq,
      records: group.records,
      acks: group.acks,
      lanes: group.lanes,
      createdAtMs: s.clock.now(),
      firstAcceptedMs: group.firstAcceptedMs,
      durable: false,
      lanesLeft: group.lanes.length,
      inflight: 0,
      recovered: false,
      deliveries: [],
    };
    group.records = [];
    group.acks = [];
    group.bytes = 0;
    s.onClosed(batch);
  }

  private groupFor(names: readonly string[]): Group {
    const sorted = [...new Set(names)].sort();
    const key = sorted.join('\u0000');
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        lanes: sorted.map((n) => this.setup.lanes.get(n) as Lane),
        records: [],
        acks: [],
        bytes: 0,
        firstAcceptedMs: 0,
        timer: undefined,
        soon: undefined,
        lastClosedMs: Number.NEGATIVE_INFINITY,
      };
      this.groups.set(key, group);
    }
    return group;
  }
}

/**
 * Track `record` for `holders`, as `ack` says: the item of a record taken
 * back from the spill before it was written (now held by these holders),
 * the spill's own source and cursor for a record read back from disk, or
 * the record's own source and cursor.
 */
export function trackAs(
  tracker: AckTracker,
  record: LogRecord,
  holders: number,
  ack: SpillAck,
): AckItem {
  if (ack === undefined) return tracker.track(record, holders);
  if ('item' in ack) {
    if (holders === 0) tracker.settle(ack.item);
    else ack.item.remaining = holders;
    return ack.item;
  }
  return tracker.track(
    { source: ack.as.source, cursor: ack.as.cursor },
    holders,
  );
}
