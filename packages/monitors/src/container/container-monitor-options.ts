import type {
  ContainerPosition,
  Instrumentation,
  Intake,
  Labels,
  Position,
} from '@lc/core';
import { LcError } from '@lc/core';
import type Dockerode from 'dockerode';
import type { MultilineOptions } from '../multiline/multiline-options.js';
import { resolveMultilineOptions } from '../multiline/multiline-options.js';

/**
 * The part of `@lc/positions`' `PositionManager` the container monitor
 * uses. Pass the position manager itself; the dispatcher commits cursors
 * to it, the monitor reads them back on (re)start.
 */
export interface ContainerPositions {
  get(kind: string, id: string): Position | undefined;
  /** Every position of a kind (used with `dataRoot`). */
  list?(kind?: string): Position[];
  upsertContainer(position: ContainerPosition): void;
  remove(kind: string, id: string): void;
}

/** Which containers to capture. Every given criterion must match. */
export interface ContainerFilters {
  /** Name globs (`*`, `?`; no leading `/`). @default all names */
  includeNames?: readonly string[];
  /** Name globs to skip; wins over `includeNames`. @default none */
  excludeNames?: readonly string[];
  /** Image globs (as in `docker ps`, e.g. `nginx:*`). @default all images */
  includeImages?: readonly string[];
  /** Image globs to skip. @default none */
  excludeImages?: readonly string[];
  /** `key` or `key=value` container labels; all must be present. @default none */
  includeLabels?: readonly string[];
  /** `key` or `key=value` container labels; any present skips it. @default none */
  excludeLabels?: readonly string[];
}

/**
 * Feedback-loop guard (seed incident: an agent capturing the output of its
 * own pipeline). A container producing at least `maxShare` of all captured
 * lines within `windowMs`, while at least `minLines` were captured and
 * another container was active, stops being captured.
 */
export interface FeedbackGuardOptions {
  /** Share in (0, 1]. */
  maxShare: number;
  /** @default 10_000 */
  windowMs?: number;
  /** @default 10_000 */
  minLines?: number;
}

/** Options of `createContainerMonitor`. */
export interface ContainerMonitorOptions extends Instrumentation {
  /** Where records go (the dispatcher). Backpressure is honoured. */
  intake: Intake;
  /** Position manager: resume points and container metadata. */
  positions: ContainerPositions;
  /**
   * Docker client. @default `new Dockerode({ socketPath })`
   */
  docker?: Dockerode;
  /** Socket used when `docker` is not given. @default '/var/run/docker.sock' */
  socketPath?: string;
  /** Which containers to capture. @default all */
  filters?: ContainerFilters;
  /** Labels added to every record (before the container's own). @default none */
  labels?: Labels;
  /**
   * Container labels copied into record labels, by exact key. Dots and
   * other characters Loki does not allow become `_`. @default none
   */
  labelAllowList?: readonly string[];
  /** Hard cap on open log streams; others wait in a FIFO queue. @default 50 */
  maxConcurrentStreams?: number;
  /**
   * Each stream is closed and reopened from its position after this long
   * (releases sockets; no gap, no duplicate). 0 disables. @default 300_000
   */
  streamRotationMs?: number;
  /**
   * A stream that delivered no byte for this long is closed and reopened
   * from its position. 0 disables. @default 60_000
   */
  staleStreamMs?: number;
  /**
   * After a container's `die` event, how long its stream may still drain
   * before it is closed (it is then read to the end without follow).
   * @default 2_000
   */
  drainMs?: number;
  /**
   * After `destroy`, how long to wait for the last lines to be committed
   * before the position is removed anyway. @default 60_000
   */
  destroyedSettleMs?: number;
  /** Lines longer than this (after merging partials) are split. @default 1 MiB */
  maxLineBytes?: number;
  /**
   * Join lines into multiline records (a preset or a pattern, see
   * `MultilineOptions`), stdout and stderr separately. A joined record has
   * its first line's timestamp; its cursor never passes a line still
   * pending on either stream, so a restart re-reads a half-read record
   * whole. Pending records are emitted when the container stops.
   * @default none
   */
  multiline?: MultilineOptions;
  /** Event stream reconnect backoff, first delay. @default 100 */
  reconnectBaseMs?: number;
  /** Event stream reconnect backoff, cap. @default 5_000 */
  reconnectMaxMs?: number;
  /**
   * Id (or id prefix) of the container the agent itself runs in, never
   * captured. @default detected from /proc/self/cgroup and /proc/self/mountinfo
   */
  selfContainerId?: string;
  /**
   * Docker's data root. When given, a container with no position of its
   * own whose json-file log was read in files mode before resumes after
   * the last line committed there (switching `files` → `api` neither
   * loses nor re-reads). @default none
   */
  dataRoot?: string;
  /**
   * Log drivers whose containers this monitor leaves alone (excluded with
   * reason `files`): the Docker files mode reads `json-file` logs from
   * disk, and this monitor then streams only the others. @default none
   */
  skipLogDrivers?: readonly string[];
  /** Feedback-loop guard. @default off */
  feedbackGuard?: FeedbackGuardOptions;
  /**
   * Most distinct containers with their own per-container line/byte
   * metric series; the rest share `container="_other"`. @default 100
   */
  maxMetricContainers?: number;
}

export const DEFAULT_SOCKET_PATH = '/var/run/docker.sock';
export const DEFAULT_MAX_CONCURRENT_STREAMS = 50;
export const DEFAULT_STREAM_ROTATION_MS = 300_000;
export const DEFAULT_STALE_STREAM_MS = 60_000;
export const DEFAULT_DRAIN_MS = 2_000;
export const DEFAULT_DESTROYED_SETTLE_MS = 60_000;
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_RECONNECT_BASE_MS = 100;
export const DEFAULT_RECONNECT_MAX_MS = 5_000;
export const DEFAULT_MAX_METRIC_CONTAINERS = 100;

/** Options with defaults applied. */
export interface ResolvedContainerMonitorOptions {
  maxConcurrentStreams: number;
  streamRotationMs: number;
  staleStreamMs: number;
  drainMs: number;
  destroyedSettleMs: number;
  maxLineBytes: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  maxMetricContainers: number;
  feedbackGuard: Required<FeedbackGuardOptions> | undefined;
}

function invalid(name: string, expected: string, got: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createContainerMonitor: option ${name} must be ${expected}, got ${JSON.stringify(got)}`,
    details: { option: name },
  });
}

function int(
  options: ContainerMonitorOptions,
  name: keyof ContainerMonitorOptions,
  fallback: number,
  min: number,
): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(name, `an integer >= ${min}`, value);
  }
  return value;
}

/** Validate and apply defaults. Throws `LC_ERR_INVALID_OPTION`. */
export function resolveContainerMonitorOptions(
  options: ContainerMonitorOptions,
): ResolvedContainerMonitorOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', 'an object', options);
  }
  if (typeof options.intake?.dispatch !== 'function') {
    throw invalid('intake', 'an Intake', typeof options.intake);
  }
  if (
    typeof options.positions?.get !== 'function' ||
    typeof options.positions.upsertContainer !== 'function'
  ) {
    throw invalid('positions', 'a PositionManager', typeof options.positions);
  }
  if (options.multiline !== undefined)
    resolveMultilineOptions(
      options.multiline,
      'multiline',
      'createContainerMonitor',
    );
  let feedbackGuard: Required<FeedbackGuardOptions> | undefined;
  if (options.feedbackGuard !== undefined) {
    const g = options.feedbackGuard;
    if (!(g.maxShare > 0 && g.maxShare <= 1)) {
      throw invalid('feedbackGuard.maxShare', 'a number in (0, 1]', g.maxShare);
    }
    feedbackGuard = {
      maxShare: g.maxShare,
      windowMs: g.windowMs ?? 10_000,
      minLines: g.minLines ?? 10_000,
    };
  }
  const resolved = {
    maxConcurrentStreams: int(
      options,
      'maxConcurrentStreams',
      DEFAULT_MAX_CONCURRENT_STREAMS,
      1,
    ),
    streamRotationMs: int(
      options,
      'streamRotationMs',
      DEFAULT_STREAM_ROTATION_MS,
      0,
    ),
    staleStreamMs: int(options, 'staleStreamMs', DEFAULT_STALE_STREAM_MS, 0),
    drainMs: int(options, 'drainMs', DEFAULT_DRAIN_MS, 0),
    destroyedSettleMs: int(
      options,
      'destroyedSettleMs',
      DEFAULT_DESTROYED_SETTLE_MS,
      0,
    ),
    maxLineBytes: int(options, 'maxLineBytes', DEFAULT_MAX_LINE_BYTES, 1024),
    reconnectBaseMs: int(
      options,
      'reconnectBaseMs',
      DEFAULT_RECONNECT_BASE_MS,
      1,
    ),
    reconnectMaxMs: int(options, 'reconnectMaxMs', DEFAULT_RECONNECT_MAX_MS, 1),
    maxMetricContainers: int(
      options,
      'maxMetricContainers',
      DEFAULT_MAX_METRIC_CONTAINERS,
      0,
    ),
    feedbackGuard,
  };
  if (resolved.reconnectMaxMs < resolved.reconnectBaseMs) {
    throw invalid(
      'reconnectMaxMs',
      '>= reconnectBaseMs',
      resolved.reconnectMaxMs,
    );
  }
  return resolved;
}
