import { labelsKey } from '@lc/core';
import type { Clock, Labels, Logger, LogRecord, Sink } from '@lc/core';
import { nonNegative, positive, DEFAULTS } from '../dispatcher-options.js';
import type { SinkDispatchOptions } from '../dispatcher-options.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { DispatcherMetrics } from './dispatcher-metrics.js';
import type { Delivery, Lane } from './model.js';

/** What {@link createLanes} needs besides the sinks. */
export interface LaneSetup {
  readonly sinkOptions: Readonly<Record<string, SinkDispatchOptions>>;
  readonly workers: number;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: DispatcherMetrics;
  /** A circuit went half-open: its lane may send a probe. */
  readonly onHalfOpen: (lane: Lane) => void;
  /** The circuit closed again after an outage. */
  readonly onClosed: (lane: Lane) => void;
  /** The circuit opened: the sink is down. */
  readonly onOpened?: (lane: Lane) => void;
}

/** One lane per sink, keyed by name, with fallbacks resolved. */
export function createLanes(
  sinks: readonly Sink[],
  setup: LaneSetup,
): Map<string, Lane> {
  const lanes = new Map<string, Lane>();
  const pending: Array<[Lane, string | undefined]> = [];
  for (const sink of sinks) {
    const so = setup.sinkOptions[sink.name] ?? {};
    const lane: Lane = {
      sink,
      name: sink.name,
      ordered: (so.ordering ?? 'stream') === 'stream',
      workers: positive(
        `sinkOptions.${sink.name}.workers`,
        so.workers,
        setup.workers,
      ),
      fallback: undefined,
      fallbackAfterMs: nonNegative(
        `sinkOptions.${sink.name}.fallbackAfterMs`,
        so.fallbackAfterMs,
        DEFAULTS.fallbackAfterMs,
      ),
      circuit: new CircuitBreaker({
        failureThreshold: setup.failureThreshold,
        openMs: setup.openMs,
        clock: setup.clock,
        onChange: (state) => {
          const cause = lane.lastError;
          if (state === 'open')
            setup.logger.warn(
              {
                sink: sink.name,
                state,
                cause: cause?.message,
                code: cause?.code,
                retryInMs: setup.openMs,
              },
              `sink ${sink.name} is failing: circuit open, deliveries to it pause for ${setup.openMs} ms, then one probe`,
            );
          else
            setup.logger.info(
              { sink: sink.name, state },
              state === 'closed'
                ? `sink ${sink.name} delivers again: circuit closed`
                : 'circuit state changed',
            );
          if (state === 'half-open') setup.onHalfOpen(lane);
          else if (state === 'closed') setup.onClosed(lane);
          else if (state === 'open') setup.onOpened?.(lane);
        },
      }),
      metrics: setup.metrics.sink(sink.name),
      ready: [],
      queue: [],
      queueHead: 0,
      inflight: 0,
      locked: new Map(),
      delivered: 0,
      lastError: undefined,
      failureLog: { atMs: -Infinity, suppressed: 0 },
      divertLog: { atMs: -Infinity, suppressed: 0 },
      dropLog: { atMs: -Infinity, suppressed: 0 },
      deadLettered: 0,
    };
    lanes.set(sink.name, lane);
    pending.push([lane, so.fallback]);
  }
  // Fallbacks are resolved by name once every lane exists.
  for (const [lane, fallback] of pending) {
    if (fallback !== undefined)
      (lane as { fallback: Lane | undefined }).fallback = lanes.get(fallback);
  }
  return lanes;
}

const streamKeys = new WeakMap<Labels, string>();

function streamKey(labels: Labels): string {
  let key = streamKeys.get(labels);
  if (key === undefined) {
    key = labelsKey(labels);
    streamKeys.set(labels, key);
  }
  return key;
}

function streamsOf(records: readonly LogRecord[]): string[] {
  const seen = new Set<Labels>();
  const keys = new Set<string>();
  for (const r of records) {
    if (seen.has(r.labels)) continue;
    seen.add(r.labels);
    keys.add(streamKey(r.labels));
  }
  return [...keys];
}

/**
 * Take the next delivery a worker of `lane` may start: a due retry first,
 * then the queue. On an ordered lane, the first waiting delivery none of
 * whose streams is held by a started delivery or by an earlier waiting one.
 */
export function nextDelivery(lane: Lane): Delivery | undefined {
  while (lane.ready.length > 0) {
    const d = lane.ready.shift() as Delivery;
    if (d.state === 'waiting' && d.target === lane) return d;
  }
  const q = lane.queue;
  // Clear taken slots: a done delivery must not keep its batch alive.
  while (lane.queueHead < q.length && q[lane.queueHead]?.state !== 'waiting') {
    q[lane.queueHead++] = undefined;
  }
  if (lane.queueHead > 256 && lane.queueHead * 2 > q.length) {
    lane.queue = q.slice(lane.queueHead);
    lane.queueHead = 0;
    return nextDelivery(lane);
  }
  if (!lane.ordered) {
    if (lane.queueHead >= q.length) return undefined;
    const d = q[lane.queueHead] as Delivery;
    q[lane.queueHead++] = undefined;
    return d;
  }
  let blocked: Set<string> | undefined;
  for (let k = lane.queueHead; k < q.length; k++) {
    const d = q[k];
    if (d === undefined || d.state !== 'waiting') {
      q.splice(k--, 1);
      continue;
    }
    d.streams ??= streamsOf(d.records);
    let free = true;
    for (const s of d.streams) {
      const owner = lane.locked.get(s);
      if ((owner !== undefined && owner !== d) || blocked?.has(s) === true) {
        free = false;
        break;
      }
    }
    if (free) {
      if (k === lane.queueHead) q[lane.queueHead++] = undefined;
      else q.splice(k, 1);
      return d;
    }
    blocked ??= new Set();
    for (const s of d.streams) blocked.add(s);
  }
  return undefined;
}

/** Hold `d`'s streams on its ordered lane until it is settled or diverted. */
export function lockStreams(d: Delivery): void {
  if (d.locked || !d.lane.ordered || d.target !== d.lane) return;
  d.streams ??= streamsOf(d.records);
  for (const s of d.streams) d.lane.locked.set(s, d);
  d.locked = true;
}

/** Release `d`'s streams; true when it held any (its lane may go on). */
export function unlockStreams(d: Delivery): boolean {
  if (!d.locked) return false;
  d.locked = false;
  for (const s of d.streams ?? [])
    if (d.lane.locked.get(s) === d) d.lane.locked.delete(s);
  return true;
}

/** Deliveries waiting for a worker of `lane` (new and due retries). */
export function queuedOn(lane: Lane): number {
  return lane.ready.length + lane.queue.length - lane.queueHead;
}

/** Each sink's circuit state, for the circuit gauge. */
export function circuitStates(
  lanes: ReadonlyMap<string, Lane>,
): Array<{ sink: string; state: Lane['circuit']['state'] }> {
  return [...lanes.values()].map((l) => ({
    sink: l.name,
    state: l.circuit.state,
  }));
}
