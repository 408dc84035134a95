import { LcError } from '@lc/core';
import type {
  BatchStore,
  CursorCommitter,
  DeadLetterStore,
  Instrumentation,
  Sink,
} from '@lc/core';

/** What to do with a new record when the intake is over its budget. */
export type DropPolicy = 'block' | 'drop_newest' | 'drop_oldest';

/**
 * A routing rule: records whose labels match every entry of `match` go to
 * `sinks`. A string matches exactly; a RegExp is tested against the value.
 */
export interface RouteOptions {
  readonly match: Readonly<Record<string, string | RegExp>>;
  readonly sinks: readonly string[];
}

/** Per-sink delivery options. */
export interface SinkDispatchOptions {
  /**
   * `'stream'`: batches sharing a label set (a Loki stream) are delivered
   * to this sink one at a time, in order, retries included. `'none'`: any
   * order, up to `workers` batches at once.
   * @default 'stream'
   */
  readonly ordering?: 'stream' | 'none';
  /** Concurrent writes to this sink. @default DispatcherOptions.workers */
  readonly workers?: number;
  /**
   * Name of another sink in `sinks` that takes this sink's batches when its
   * circuit has stayed open for `fallbackAfterMs`, or when a batch exhausts
   * its attempts. Records get metadata `lc_original_sink`. Fallback sinks
   * receive no routed traffic of their own unless a route names them.
   */
  readonly fallback?: string;
  /** @default 60_000 */
  readonly fallbackAfterMs?: number;
}

/** Retry policy (one bounded queue for all sinks). */
export interface RetryOptions {
  /** First backoff ceiling, ms. @default 250 */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling, ms. @default 30_000 */
  readonly maxDelayMs?: number;
  /**
   * Attempts per batch and sink before it goes to the fallback or the DLQ.
   * @default Infinity (transient failures retry until `maxAgeMs`)
   */
  readonly maxAttempts?: number;
  /** Age (since the first failure) after which a batch stops retrying. @default Infinity */
  readonly maxAgeMs?: number;
  /**
   * Deliveries waiting for a retry before the intake stops accepting
   * records (backpressure; nothing is dropped). @default 10_000
   */
  readonly maxQueueSize?: number;
}

/** Circuit breaker per sink. */
export interface CircuitOptions {
  /** Consecutive retryable failures that open it; 0 disables. @default 5 */
  readonly failureThreshold?: number;
  /** Open time before a single probe, ms. @default 5_000 */
  readonly openMs?: number;
}

/** Deduplication (off unless given). */
export interface DedupOptions {
  /** How long a record is remembered, ms. @default 60_000 */
  readonly ttlMs?: number;
  /** Most records remembered (oldest forgotten first). @default 100_000 */
  readonly maxEntries?: number;
}

/** Rate limit (off unless given). Records over the limit are dropped and counted. */
export interface RateLimitOptions {
  readonly recordsPerSecond: number;
  /** Bucket size. @default recordsPerSecond */
  readonly burst?: number;
  /** One bucket per source, or one for all. @default 'source' */
  readonly scope?: 'source' | 'global';
}

/**
 * Spill to disk (off unless given): when the in-memory intake is full and
 * the spill protects something (see `trigger`), records go to an
 * @lc/buffer disk log instead of pausing the source, and come back into
 * memory in arrival order as room frees. Durable by default (see
 * `durable`). When the spill is full too, or it is not triggered, the
 * intake backpressures as without it. Requires `dropPolicy: 'block'`.
 */
export interface SpillOptions {
  /** Directory of the spill's disk log (created; one dispatcher per directory). */
  readonly directory: string;
  /**
   * Estimated bytes (as for `maxQueueBytes`) held in the spill before the
   * intake backpressures. @default 1 GiB
   */
  readonly maxBytes?: number;
  /** Segment file size of the disk log, bytes (min 4096). @default 16 MiB */
  readonly maxSegmentBytes?: number;
  /**
   * A disk buffer rather than memory overflow: a spilled record counts as
   * held for the position commit once it is written (its source may move
   * on, and rotated files may go), and what a previous process left is
   * delivered first after a restart, in order. `false`: the spill is
   * discarded at start and positions wait for delivery (sources read the
   * records again after a crash). @default true
   */
  readonly durable?: boolean;
  /** When spill writes reach the disk itself (durable spills). @default 'interval' */
  readonly fsync?: 'always' | 'interval' | 'never';
  /**
   * Never spill once the spill's file system has less free space than
   * this, bytes. @default min(512 MiB, 10 % of the file system)
   */
  readonly minFreeBytes?: number;
  /**
   * At `maxBytes` (or the free-space floor): `pause` backpressures the
   * sources; `drop_oldest` deletes the oldest spilled records to make room
   * (counted as `spill_full` drops and logged with their sources).
   * @default 'pause'
   */
  readonly whenFull?: 'pause' | 'drop_oldest';
  /**
   * When a full intake spills instead of pausing the sources. `risk`: only
   * while the spill protects something: a sink is failing (a retry is
   * pending or a circuit is not closed), or `atRisk()` says a source holds
   * unread data it may lose (a rotated-away or deleted file); a sink that
   * is merely slower than the sources pauses them (files are the buffer),
   * which costs no disk I/O. Once the spill holds records, new ones join
   * its tail while it is triggered; when it is not, the sources pause until
   * it has drained. `backpressure`: whenever the intake is full.
   * @default 'risk'
   */
  readonly trigger?: 'risk' | 'backpressure';
  /**
   * With `trigger: 'risk'`: whether some source holds data that may soon be
   * gone if it is not read (a file renamed away or deleted, still open).
   * Called when the intake is full, and about once a second while sources
   * wait for room. @default () => false
   */
  readonly atRisk?: () => boolean;
}

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions extends Instrumentation {
  /** Destinations; names must be unique. Shut down by `shutdown()`. */
  sinks: readonly Sink[];
  /** Routing rules; a record matching none goes to `defaultSinks`. */
  routes?: readonly RouteOptions[];
  /** @default every sink that is not some sink's fallback */
  defaultSinks?: readonly string[];
  /** Per-sink options keyed by sink name. */
  sinkOptions?: Readonly<Record<string, SinkDispatchOptions>>;
  /** Receives the settled watermark per source (the position manager). */
  committer?: CursorCommitter;
  /**
   * Batch WAL. A persisted batch is delivered again after a crash, and its
   * records count as held for the position commit (their sources may move
   * on). When it persists: see `persist`.
   */
  batchStore?: BatchStore;
  /**
   * With a `batchStore`: `always` persists every batch before its first
   * attempt; `on_failure` only a batch whose delivery failed and will be
   * retried, or that is queued while one of its sinks is down (its circuit
   * not closed), so the WAL costs nothing while sinks are healthy.
   * @default 'always'
   */
  persist?: 'always' | 'on_failure';
  /** Where failed records go when the batch is not in `batchStore`. */
  deadLetters?: DeadLetterStore;
  /**
   * Records held (accepted, not settled) before backpressure: what the
   * dispatcher keeps in memory. Enough to keep every worker busy with one
   * batch building; sources are the buffer beyond that (files stay on
   * disk, container streams pause). A larger bound buys no throughput and
   * costs memory and GC time (see docs/benchmarks.md).
   * @default (workers + 1) × batchMaxRecords, at least 5,000
   */
  maxQueueRecords?: number;
  /** Estimated bytes held before backpressure. @default (workers + 1) × batchMaxBytes, at least 8 MiB */
  maxQueueBytes?: number;
  /** @default 'block' */
  dropPolicy?: DropPolicy;
  /** @default 1000 */
  batchMaxRecords?: number;
  /** @default 1 MiB */
  batchMaxBytes?: number;
  /** Longest a record waits for its batch to fill, ms. @default 1000 */
  batchTimeoutMs?: number;
  /**
   * When every sink of a batch is idle (nothing in flight or queued) and
   * none was sent to for `batchTimeoutMs`, send the first records as soon
   * as the current dispatch call is done instead of waiting for the batch
   * to fill: the first line after a quiet spell (or after start) goes out
   * at once, while a steady flow is still batched by size and timeout.
   * @default true
   */
  sendWhenIdle?: boolean;
  /** Concurrent writes per sink. @default 2 */
  workers?: number;
  /** One write attempt's time limit, ms (the sink's signal aborts). @default 30_000 */
  sendTimeoutMs?: number;
  retry?: RetryOptions;
  circuit?: CircuitOptions;
  dedup?: DedupOptions;
  rateLimit?: RateLimitOptions;
  /** Spill to disk when the intake is full. @default off */
  spill?: SpillOptions;
  /** How long `shutdown()` waits for deliveries, ms. @default 30_000 */
  shutdownTimeoutMs?: number;
  /** Also shut down the sinks in `shutdown()`. @default true */
  shutdownSinks?: boolean;
  /** Metric label `dispatcher`. @default 'default' */
  name?: string;
  /** Random source for jitter, [0, 1). @default Math.random */
  random?: () => number;
}

export const DEFAULTS = {
  /** Floor of the derived default (see `maxQueueRecords`). */
  maxQueueRecords: 5_000,
  /** Floor of the derived default (see `maxQueueBytes`). */
  maxQueueBytes: 8 * 1024 * 1024,
  batchMaxRecords: 1000,
  batchMaxBytes: 1024 * 1024,
  batchTimeoutMs: 1000,
  workers: 2,
  sendTimeoutMs: 30_000,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 30_000,
  retryMaxQueueSize: 10_000,
  circuitFailureThreshold: 5,
  circuitOpenMs: 5_000,
  fallbackAfterMs: 60_000,
  dedupTtlMs: 60_000,
  dedupMaxEntries: 100_000,
  shutdownTimeoutMs: 30_000,
  spillMaxBytes: 1024 * 1024 * 1024,
  spillMaxSegmentBytes: 16 * 1024 * 1024,
} as const;

function invalid(option: string, expected: string, got: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createDispatcher: ${option} must be ${expected}, got ${typeof got === 'string' ? JSON.stringify(got) : String(got)}`,
    details: { option },
  });
}

/** A positive integer, or Infinity when `allowInfinity`. */
export function positive(
  option: string,
  value: number | undefined,
  fallback: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(option, 'a positive number', value);
  }
  return value;
}

/** Non-negative finite number. */
export function nonNegative(
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(option, 'a non-negative number', value);
  }
  return value;
}

/** Validate sink names, routes and fallbacks against each other. */
export function validateTopology(options: DispatcherOptions): void {
  if (!Array.isArray(options.sinks) || options.sinks.length === 0) {
    throw invalid('sinks', 'a non-empty array of sinks', options.sinks);
  }
  const names = new Set<string>();
  for (const sink of options.sinks) {
    if (typeof sink?.name !== 'string' || typeof sink.write !== 'function') {
      throw invalid(
        'sinks',
        'Sink objects (name, write, flush, shutdown)',
        sink,
      );
    }
    if (names.has(sink.name))
      throw invalid('sinks', 'uniquely named', sink.name);
    names.add(sink.name);
  }
  const known = (option: string, name: string): void => {
    if (!names.has(name))
      throw invalid(option, `one of ${[...names].join(', ')}`, name);
  };
  for (const [i, route] of (options.routes ?? []).entries()) {
    for (const name of route.sinks) known(`routes[${i}].sinks`, name);
  }
  for (const name of options.defaultSinks ?? []) known('defaultSinks', name);
  for (const [name, so] of Object.entries(options.sinkOptions ?? {})) {
    known('sinkOptions', name);
    if (so.fallback !== undefined) {
      known(`sinkOptions.${name}.fallback`, so.fallback);
      if (so.fallback === name)
        throw invalid(`sinkOptions.${name}.fallback`, 'another sink', name);
    }
    if (
      so.ordering !== undefined &&
      so.ordering !== 'stream' &&
      so.ordering !== 'none'
    ) {
      throw invalid(
        `sinkOptions.${name}.ordering`,
        "'stream' or 'none'",
        so.ordering,
      );
    }
  }
  const policy = options.dropPolicy;
  if (
    policy !== undefined &&
    policy !== 'block' &&
    policy !== 'drop_newest' &&
    policy !== 'drop_oldest'
  ) {
    throw invalid(
      'dropPolicy',
      "'block', 'drop_newest' or 'drop_oldest'",
      policy,
    );
  }
  const spill = options.spill;
  if (spill !== undefined) {
    if (typeof spill.directory !== 'string' || spill.directory === '')
      throw invalid('spill.directory', 'a non-empty path', spill.directory);
    if ((policy ?? 'block') !== 'block')
      throw invalid(
        'dropPolicy',
        "'block' when spill is set (spill replaces dropping)",
        policy,
      );
    if (spill.maxSegmentBytes !== undefined && spill.maxSegmentBytes < 4096)
      throw invalid(
        'spill.maxSegmentBytes',
        'at least 4096',
        spill.maxSegmentBytes,
      );
    if (spill.atRisk !== undefined && typeof spill.atRisk !== 'function')
      throw invalid('spill.atRisk', 'a function', spill.atRisk);
  }
  if (options.rateLimit !== undefined) {
    positive(
      'rateLimit.recordsPerSecond',
      options.rateLimit.recordsPerSecond,
      1,
    );
  }
}
