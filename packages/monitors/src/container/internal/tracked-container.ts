import type {
  Clock,
  ContainerCursor,
  ContainerPositionStatus,
  Labels,
  SourceRef,
  TimerHandle,
} from '@lc/core';
import type { ContainerStreamName } from '../docker-log-parser.js';
import type { AttachCapture } from './attach-capture.js';
import type { ContainerLineSink } from './container-line-sink.js';
import type { LogStreamSession } from './log-stream-session.js';

/**
 * What the container monitor knows and holds for one container: its facts
 * from the inspect, its lifecycle state, its stream (or its place in the
 * queue), where its next stream resumes, its counters and its timers.
 * Mutable: the monitor's parts update it in place.
 */
export interface TrackedContainer {
  readonly id: string;
  name: string;
  readonly image: string;
  readonly tty: boolean;
  readonly containerLabels: Readonly<Record<string, string>>;
  readonly source: SourceRef;
  recordLabels: Record<ContainerStreamName, Labels>;
  running: boolean;
  /** Removed by the engine at exit (`--rm`: `HostConfig.AutoRemove`). */
  readonly autoRemove: boolean;
  paused: boolean;
  destroyed: boolean;
  excluded: string | undefined;
  phase: 'idle' | 'queued' | 'streaming';
  /**
   * True while the end of its last stream is being handled (idle, but what
   * follows is decided there: a `destroy` meanwhile must not settle it).
   */
  ending: boolean;
  session: LogStreamSession | undefined;
  /**
   * Output captured by the attach opened at its `create` event, until its
   * log was read to the end or replayed from it (`--rm`).
   */
  capture: AttachCapture | undefined;
  /** Where its lines go (multiline joining lives here, across streams); made at the first open. */
  sink: ContainerLineSink | undefined;
  cursor: ContainerCursor | undefined;
  reopen: boolean;
  /**
   * The next stream reads without follow, to the end of the log: the
   * container stopped, and the end of a follow stream does not prove that
   * everything was read.
   */
  readToEnd: boolean;
  lastEofAtMs: number;
  lines: number;
  /** Lines read per stream in this process (what an attach replay skips). */
  streamLines: Record<ContainerStreamName, number>;
  bytes: number;
  windowLines: number;
  rotations: number;
  lastError: string | undefined;
  metricKey: string;
  timers: TimerHandle[];
}

/** The position status of a tracked container. */
export function containerState(t: TrackedContainer): ContainerPositionStatus {
  if (t.destroyed) return 'destroyed';
  if (t.paused) return 'paused';
  return t.running ? 'running' : 'stopped';
}

/**
 * Run `fn` after `ms` on an unref'd timer owned by `t`, so that it is
 * cleared with the container's other timers ({@link clearTimers}).
 */
export function later(
  t: TrackedContainer,
  clock: Clock,
  ms: number,
  fn: () => void,
): void {
  const handle = clock.setTimeout(() => {
    t.timers = t.timers.filter((h) => h !== handle);
    fn();
  }, ms);
  handle.unref();
  t.timers.push(handle);
}

/** Clear every timer `t` owns (its stream ended, it is forgotten, shutdown). */
export function clearTimers(t: TrackedContainer, clock: Clock): void {
  for (const h of t.timers) clock.clearTimeout(h);
  t.timers = [];
}
