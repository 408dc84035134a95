import type {
  Clock,
  ContainerCursor,
  ContainerPositionStatus,
  Logger,
} from '@lc/core';
import { LcError, once, silentLogger, systemClock } from '@lc/core';
import { Registry } from 'prom-client';
import type { ContainerMonitorOptions } from './container-monitor-options.js';
import {
  DEFAULT_SOCKET_PATH,
  resolveContainerMonitorOptions,
} from './container-monitor-options.js';
import { START_CURSOR } from './line-assembler.js';
import { ContainerDiscovery } from './internal/container-discovery.js';
import { createContainerMetrics } from './internal/container-metrics.js';
import { ContainerPositionBook } from './internal/container-position-book.js';
import { ContainerTracker } from './internal/container-tracker.js';
import { dockerError, loadDockerode } from './internal/docker-support.js';
import { EventWatcher } from './internal/event-watcher.js';
import { FeedbackGuard } from './internal/feedback-guard.js';
import { StreamEnd } from './internal/stream-end.js';
import { StreamPool } from './internal/stream-pool.js';
import { clearTimers, containerState } from './internal/tracked-container.js';

/** What the monitor knows about one container. */
export interface ContainerStatus {
  /** Full container id. */
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly tty: boolean;
  readonly state: ContainerPositionStatus;
  /** `streaming`: a log stream is open; `queued`: waiting for a pool slot. */
  readonly phase: 'idle' | 'queued' | 'streaming';
  /** Why it is not captured (`filter`, `self`, `feedback`, `files`), if so. */
  readonly excluded?: string;
  /** Lines read in this process. */
  readonly lines: number;
  /** Log bytes read in this process. */
  readonly bytes: number;
  /** Planned stream rotations in this process. */
  readonly rotations: number;
  /** Resume point of the next stream (last line handed to the intake). */
  readonly cursor: ContainerCursor;
  /** Last stream error message, if any. */
  readonly lastError?: string;
}

/**
 * Captures Docker container logs through the engine API: discovers
 * containers (list + events), streams each container's stdout/stderr into
 * the intake with a resumable cursor, and keeps the number of open streams,
 * sockets and timers bounded.
 */
export interface ContainerMonitor {
  /**
   * Connect to the engine, list containers and start streaming. Rejects
   * `LC_ERR_DOCKER` when the engine cannot be reached. Idempotent.
   */
  start(): Promise<void>;
  /**
   * Resolves once every line read so far was handed to the intake (lines
   * are handed over as they are parsed, so this is immediate).
   */
  flush(): Promise<void>;
  /**
   * Stop discovery, close every stream and socket, and release timers.
   * Half-read split lines are not emitted: the next start re-reads them
   * from the position. Idempotent; `start()` after it rejects.
   */
  shutdown(): Promise<void>;
  /** One entry per known container. */
  status(): ContainerStatus[];
}

/**
 * Create a {@link ContainerMonitor}. Throws `LC_ERR_INVALID_OPTION` for a
 * bad option. Nothing is contacted before `start()`.
 *
 * The parts (under `internal/`): the tracker inspects containers and
 * forgets destroyed ones, discovery turns events and the container list
 * into stream requests, the pool bounds the open streams, the stream end
 * decides what follows each stream, the position book keeps cursors, the
 * feedback guard excludes a container that floods the pipeline. This
 * factory wires them and owns the lifecycle.
 */
export function createContainerMonitor(
  options: ContainerMonitorOptions,
): ContainerMonitor {
  const config = resolveContainerMonitorOptions(options);
  const clock: Clock = options.clock ?? systemClock;
  const logger: Logger = (options.logger ?? silentLogger).child({
    component: 'container-monitor',
  });
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.error({ err: error }, 'container monitor error'));
  const registry = options.registry ?? new Registry();
  const metrics = createContainerMetrics(registry);
  const docker =
    options.docker ??
    new (loadDockerode())({
      socketPath: options.socketPath ?? DEFAULT_SOCKET_PATH,
    });
  const { intake, positions } = options;

  let started = false;
  let stopping = false;
  const isStopping = (): boolean => stopping;

  const book = new ContainerPositionBook({
    positions,
    dataRoot: options.dataRoot,
    clock,
    logger,
  });
  const tracker = new ContainerTracker({
    options,
    config,
    docker,
    clock,
    book,
    metrics,
    onError,
    isStopping,
  });
  const feedback = new FeedbackGuard({
    guard: config.feedbackGuard,
    clock,
    logger,
    metrics,
    tracker,
    isStopping,
  });
  // The pool and the stream end call each other: the annotation breaks the
  // type-inference cycle.
  const pool: StreamPool = new StreamPool({
    options,
    config,
    docker,
    intake,
    clock,
    registry,
    logger,
    onError,
    metrics,
    book,
    tracker,
    feedback,
    onStreamEnd: (t, session, outcome) => streamEnd.handle(t, session, outcome),
    isStopping,
  });
  const streamEnd = new StreamEnd({
    config,
    docker,
    clock,
    logger,
    onError,
    metrics,
    book,
    tracker,
    pool,
    isStopping,
  });
  const discovery = new ContainerDiscovery({
    config,
    docker,
    clock,
    logger,
    metrics,
    book,
    tracker,
    pool,
    isStopping,
  });

  const watcher = new EventWatcher({
    docker,
    clock,
    baseMs: config.reconnectBaseMs,
    maxMs: config.reconnectMaxMs,
    onConnect: (missedSinceSec) => discovery.sync(missedSinceSec),
    onEvent: (event) => discovery.handle(event),
    onReconnect: () => metrics.reconnects.inc(),
    onError: (error) => {
      logger.warn({ err: error }, 'docker events stream failed; reconnecting');
    },
  });

  const start = once(async () => {
    if (stopping) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'container monitor was shut down',
      });
    }
    started = true;
    try {
      await watcher.start();
    } catch (error) {
      await watcher.stop();
      throw dockerError(error, undefined, 'connect');
    }
    pool.startChecks();
    feedback.start();
  });

  const shutdown = once(async () => {
    stopping = true;
    pool.stopChecks();
    feedback.stop();
    if (started) await watcher.stop();
    await tracker.settleInspections();
    pool.clearQueue();
    for (const t of tracker.values()) {
      clearTimers(t, clock);
      if (t.phase === 'queued') t.phase = 'idle';
      t.session?.close('shutdown');
      t.capture?.release();
      // Pending multiline records were not committed: read again next start.
      t.sink?.close();
    }
    await pool.settled();
    pool.updateGauges();
  });

  return {
    start,
    flush: () => Promise.resolve(),
    shutdown,
    status: () =>
      [...tracker.values()].map((t) => ({
        id: t.id,
        name: t.name,
        image: t.image,
        tty: t.tty,
        state: containerState(t),
        phase: t.phase,
        ...(t.excluded === undefined ? {} : { excluded: t.excluded }),
        lines: t.lines,
        bytes: t.bytes,
        rotations: t.rotations,
        cursor:
          t.session?.cursor ?? t.cursor ?? book.saved(t.id) ?? START_CURSOR,
        ...(t.lastError === undefined ? {} : { lastError: t.lastError }),
      })),
  };
}
