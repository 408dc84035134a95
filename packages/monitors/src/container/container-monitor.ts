import type {
  Clock,
  ContainerCursor,
  ContainerPositionStatus,
  Labels,
  Logger,
  SourceRef,
  TimerHandle,
} from '@lc/core';
import { LcError, once, silentLogger, systemClock } from '@lc/core';
import type Dockerode from 'dockerode';
import { Registry } from 'prom-client';
import type { ContainerMonitorOptions } from './container-monitor-options.js';
import {
  DEFAULT_SOCKET_PATH,
  resolveContainerMonitorOptions,
} from './container-monitor-options.js';
import type { ContainerStreamName } from './docker-log-parser.js';
import type { AssembledLine } from './line-assembler.js';
import { START_CURSOR } from './line-assembler.js';
import { compileContainerFilter } from './internal/container-filter.js';
import type { ContainerLineSink } from './internal/container-line-sink.js';
import { createContainerLineSink } from './internal/container-line-sink.js';
import type { ContainerMetrics } from './internal/container-metrics.js';
import { createContainerMetrics } from './internal/container-metrics.js';
import type { ContainerEvent } from './internal/event-watcher.js';
import { EventWatcher } from './internal/event-watcher.js';
import { AttachCapture } from './internal/attach-capture.js';
import { apiCursorFromFiles } from '../docker-files/internal/api-cursor-from-files.js';
import type { StreamOutcome } from './internal/log-stream-session.js';
import { LogStreamSession } from './internal/log-stream-session.js';
import {
  dockerError,
  errorMessage,
  isGoneForLogs,
  isNotFound,
  labelBuilder,
  loadDockerode,
} from './internal/docker-support.js';
import { detectSelfContainerId } from './internal/self-container.js';

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

interface Tracked {
  readonly id: string;
  name: string;
  readonly image: string;
  readonly tty: boolean;
  readonly containerLabels: Readonly<Record<string, string>>;
  readonly source: SourceRef;
  recordLabels: Record<ContainerStreamName, Labels>;
  running: boolean;
  /** Created or running when inspected: an attach sees its whole output. */
  readonly attachable: boolean;
  paused: boolean;
  destroyed: boolean;
  excluded: string | undefined;
  phase: 'idle' | 'queued' | 'streaming';
  session: LogStreamSession | undefined;
  /** Output captured by attach since `create`, until its log was read to the end (`--rm`). */
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

const STREAM_CHECK_MS = 1_000;
const ROTATION_RETRY_MS = 100;
const FAST_EOF_MS = 250;
const ERROR_RETRY_MS = 1_000;
/** How long a gone container's attach may take to end before its capture is replayed. */
const CAPTURE_REPLAY_WAIT_MS = 5_000;

/**
 * Create a {@link ContainerMonitor}. Throws `LC_ERR_INVALID_OPTION` for a
 * bad option. Nothing is contacted before `start()`.
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
  const metrics: ContainerMetrics = createContainerMetrics(registry);
  const docker =
    options.docker ??
    new (loadDockerode())({
      socketPath: options.socketPath ?? DEFAULT_SOCKET_PATH,
    });
  const { intake, positions } = options;
  const accept = compileContainerFilter(options.filters);
  const buildLabels = labelBuilder(
    options.labels ?? {},
    options.labelAllowList ?? [],
  );
  const selfId = options.selfContainerId ?? detectSelfContainerId();

  const tracked = new Map<string, Tracked>();
  const inspecting = new Map<string, Promise<Tracked | undefined>>();
  /** Containers that died while their first inspect was under way. */
  const diedIds = new Set<string>();
  const queue: Tracked[] = [];
  const sessions = new Set<Promise<void>>();
  const metricKeys = new Set<string>();
  let active = 0;
  let started = false;
  let stopping = false;
  let checkTimer: TimerHandle | undefined;
  let guardTimer: TimerHandle | undefined;
  let windowTotal = 0;

  const watcher = new EventWatcher({
    docker,
    clock,
    baseMs: config.reconnectBaseMs,
    maxMs: config.reconnectMaxMs,
    onConnect: (missedSinceSec) => sync(missedSinceSec),
    onEvent: handleEvent,
    onReconnect: () => metrics.reconnects.inc(),
    onError: (error) => {
      logger.warn({ err: error }, 'docker events stream failed; reconnecting');
    },
  });

  function updateGauges(): void {
    metrics.activeStreams.set(active);
    metrics.queuedStreams.set(queue.length);
    metrics.poolUtilization.set(active / config.maxConcurrentStreams);
  }

  function savedCursor(id: string): ContainerCursor | undefined {
    const p = positions.get('container', id);
    if (p === undefined || !('lastTimestampNs' in p)) return undefined;
    if (p.lastTimestampNs === '') return undefined;
    return {
      timestampNs: p.lastTimestampNs,
      lineHash: p.lastLineHash,
      linesAtTimestamp: p.linesAtLastTimestamp,
    };
  }

  /**
   * Where a container read in files mode before resumes (`dataRoot`): after
   * the last line committed from its json-file log, unless its own
   * position is later.
   */
  async function resumeFromFiles(
    id: string,
  ): Promise<ContainerCursor | undefined> {
    if (options.dataRoot === undefined || positions.list === undefined)
      return undefined;
    const fromFiles = await apiCursorFromFiles(
      positions.list('file'),
      options.dataRoot,
      id,
    ).catch(() => undefined);
    const own = savedCursor(id);
    if (fromFiles === undefined) return undefined;
    if (
      own !== undefined &&
      BigInt(own.timestampNs) >= BigInt(fromFiles.timestampNs)
    )
      return undefined;
    logger.info(
      { containerId: id, cursor: fromFiles },
      'container resumes after the last line committed from its json-file log (files mode before)',
    );
    return fromFiles;
  }

  function stateOf(t: Tracked): ContainerPositionStatus {
    if (t.destroyed) return 'destroyed';
    if (t.paused) return 'paused';
    return t.running ? 'running' : 'stopped';
  }

  function upsertPosition(t: Tracked): void {
    if (t.excluded !== undefined) return;
    const p = positions.get('container', t.id);
    const saved = p !== undefined && 'lastTimestampNs' in p ? p : undefined;
    positions.upsertContainer({
      kind: 'container',
      id: t.id,
      name: t.name,
      image: t.image,
      lastTimestampNs: saved?.lastTimestampNs ?? '',
      lastLineHash: saved?.lastLineHash ?? '',
      linesAtLastTimestamp: saved?.linesAtLastTimestamp ?? 0,
      logCount: saved?.logCount ?? 0,
      bytesRead: saved?.bytesRead ?? 0,
      status: stateOf(t),
      updatedAtMs: clock.now(),
    });
  }

  /** Inspect and start tracking a container (once per id). */
  function track(id: string): Promise<Tracked | undefined> {
    const known = tracked.get(id);
    if (known !== undefined) return Promise.resolve(known);
    const pending = inspecting.get(id);
    if (pending !== undefined) return pending;
    const promise = (async () => {
      let info: Dockerode.ContainerInspectInfo;
      try {
        info = await docker.getContainer(id).inspect();
      } catch (error) {
        if (!isNotFound(error)) onError(dockerError(error, id, 'inspect'));
        return undefined;
      }
      if (stopping) return undefined;
      const name = info.Name.replace(/^\//, '');
      const image = info.Config.Image;
      const containerLabels = info.Config.Labels ?? {};
      const facts = { id: info.Id, name, image, containerLabels };
      let excluded: string | undefined;
      const driver = info.HostConfig?.LogConfig?.Type ?? 'json-file';
      if (selfId !== undefined && info.Id.startsWith(selfId)) excluded = 'self';
      else if (options.skipLogDrivers?.includes(driver) === true)
        excluded = 'files';
      else if (!accept({ name, image, labels: containerLabels }))
        excluded = 'filter';
      if (excluded !== undefined) metrics.excluded.inc({ reason: excluded });
      const resumeFrom =
        excluded === undefined ? await resumeFromFiles(info.Id) : undefined;
      if (stopping) return undefined;
      const metricKey =
        metricKeys.size < config.maxMetricContainers || metricKeys.has(name)
          ? name
          : '_other';
      metricKeys.add(metricKey);
      const t: Tracked = {
        id: info.Id,
        name,
        image,
        tty: info.Config.Tty === true,
        containerLabels,
        source: Object.freeze({ kind: 'container', id: info.Id }),
        recordLabels: buildLabels(facts),
        running: info.State.Running === true,
        attachable:
          info.State.Status === 'created' || info.State.Status === 'running',
        paused: info.State.Paused === true,
        destroyed: false,
        excluded,
        phase: 'idle',
        session: undefined,
        capture: undefined,
        sink: undefined,
        cursor: resumeFrom,
        reopen: false,
        readToEnd: false,
        lastEofAtMs: 0,
        lines: 0,
        streamLines: { stdout: 0, stderr: 0 },
        bytes: 0,
        windowLines: 0,
        rotations: 0,
        lastError: undefined,
        metricKey,
        timers: [],
      };
      tracked.set(t.id, t);
      upsertPosition(t);
      return t;
    })().finally(() => inspecting.delete(id));
    inspecting.set(id, promise);
    return promise;
  }

  function later(t: Tracked, ms: number, fn: () => void): void {
    const handle = clock.setTimeout(() => {
      t.timers = t.timers.filter((h) => h !== handle);
      fn();
    }, ms);
    handle.unref();
    t.timers.push(handle);
  }

  function request(t: Tracked): void {
    if (stopping || t.excluded !== undefined) return;
    if (t.phase === 'streaming') {
      t.reopen = true;
      return;
    }
    if (t.phase === 'queued') return;
    t.phase = 'queued';
    queue.push(t);
    pump();
  }

  function pump(): void {
    while (
      !stopping &&
      active < config.maxConcurrentStreams &&
      queue.length > 0
    ) {
      const t = queue.shift() as Tracked;
      if (t.phase !== 'queued') continue;
      if (t.excluded !== undefined) {
        t.phase = 'idle';
        continue;
      }
      openStream(t);
    }
    updateGauges();
  }

  function openStream(t: Tracked): void {
    t.phase = 'streaming';
    t.reopen = false;
    active++;
    const resumeFrom = t.cursor ?? savedCursor(t.id) ?? START_CURSOR;
    // One line path per container, kept across streams: a record pending
    // when a stream is rotated or reopened continues in the next one.
    t.sink ??= createContainerLineSink({
      multiline: options.multiline,
      initialCursor: resumeFrom,
      dispatch: (stream, text, timestamp, cursor) =>
        intake.dispatch({
          line: text,
          timestampMs: timestamp.timestampMs,
          timestampNanos: timestamp.timestampNanos,
          labels: t.recordLabels[stream],
          source: t.source,
          cursor,
        }),
      isBehind: () => t.session?.backpressured === true,
      clock,
      registry,
      onError,
    });
    const session = new LogStreamSession({
      container: docker.getContainer(t.id),
      tty: t.tty,
      resumeFrom,
      follow: !t.readToEnd,
      maxLineBytes: config.maxLineBytes,
      intake,
      deliver: (line) => deliver(t, line),
      onBoundaryDuplicate: () => metrics.boundaryDuplicates.inc(),
      onResumeMismatch: (reason) => {
        metrics.streamErrors.inc({ type: 'resume_mismatch' });
        logger.warn(
          { containerId: t.id, reason },
          'resume boundary did not match',
        );
      },
      onSystemError: (message) => {
        metrics.streamErrors.inc({ type: 'system_error' });
        t.lastError = message;
        logger.warn({ containerId: t.id, message }, 'docker log stream error');
      },

      now: () => clock.monotonicNow(),
    });
    t.session = session;
    if (config.streamRotationMs > 0) {
      later(t, config.streamRotationMs, () => rotate(t, session));
    }
    const done = session
      .run()
      .then((outcome) => onStreamEnd(t, session, outcome))
      .catch((error: unknown) => onError(error))
      .finally(() => sessions.delete(done));
    sessions.add(done);
  }

  function rotate(t: Tracked, session: LogStreamSession): void {
    if (t.session !== session || stopping) return;
    // Never cut between the chunks of a split line: the cursor could not
    // describe the half already delivered on the other stream.
    // Nor before the replayed entries were skipped: with a rotation shorter
    // than the replay, every stream would end before reaching new lines.
    if (session.hasPartial || session.isReplaying) {
      later(t, ROTATION_RETRY_MS, () => rotate(t, session));
      return;
    }
    t.rotations++;
    metrics.rotations.inc();
    session.close('rotation');
  }

  function deliver(t: Tracked, line: AssembledLine): boolean {
    t.lines++;
    t.streamLines[line.stream]++;
    t.bytes += line.bytes;
    t.windowLines++;
    windowTotal++;
    metrics.lines.inc({ container: t.metricKey });
    metrics.bytes.inc({ container: t.metricKey }, line.bytes);
    return (t.sink as ContainerLineSink).deliver(line);
  }

  async function onStreamEnd(
    t: Tracked,
    session: LogStreamSession,
    outcome: StreamOutcome,
  ): Promise<void> {
    active--;
    t.session = undefined;
    t.phase = 'idle';
    for (const h of t.timers) clock.clearTimeout(h);
    t.timers = [];
    t.cursor = session.cursor;
    metrics.streamAge.observe(
      (clock.monotonicNow() - session.openedAtMs) / 1000,
    );
    try {
      if (stopping) return;
      switch (outcome.kind) {
        case 'closed':
          if (outcome.reason === 'excluded') t.sink?.flush();
          else if (outcome.reason !== 'shutdown') request(t);
          return;
        case 'intake_closed':
          t.lastError = 'intake shut down';
          return;
        case 'open_failed':
        case 'read_failed': {
          const gone =
            isNotFound(outcome.error) || isGoneForLogs(outcome.error);
          if (gone && t.capture !== undefined) {
            await replayCapture(t, t.capture);
          } else if (isGoneForLogs(outcome.error)) {
            // Removed before its log could be read, and not attached since
            // its creation (it existed before the monitor started).
            metrics.streamErrors.inc({ type: 'removed_unread' });
            t.lastError = errorMessage(outcome.error);
            logger.error(
              { containerId: t.id, name: t.name, readLines: t.lines },
              'container removed before its log was read to the end: lines after the cursor are lost',
            );
          }
          if (gone) {
            t.destroyed = true;
            session.flushPartials();
            t.sink?.flush();
            settleDestroyed(t);
            return;
          }
          metrics.streamErrors.inc({ type: outcome.kind });
          t.lastError = errorMessage(outcome.error);
          logger.warn(
            { containerId: t.id, err: outcome.error },
            'log stream failed',
          );
          later(t, ERROR_RETRY_MS, () => request(t));
          return;
        }
        case 'eof':
          await afterEof(t, session);
      }
    } finally {
      pump();
    }
  }

  /**
   * The container went away before its log was read to the end: the rest
   * of its output since `create` comes from the attach capture.
   */
  async function replayCapture(
    t: Tracked,
    capture: AttachCapture,
  ): Promise<void> {
    t.capture = undefined;
    const lines = await capture.replay(
      CAPTURE_REPLAY_WAIT_MS,
      config.maxLineBytes,
      { ...t.streamLines },
      (line) => {
        deliver(t, line);
      },
    );
    if (lines === undefined) {
      metrics.streamErrors.inc({ type: 'removed_unread' });
      logger.error(
        { containerId: t.id, name: t.name },
        'container removed before its log was read to the end and its attach capture is incomplete: its last lines are lost',
      );
      return;
    }
    logger.warn(
      { containerId: t.id, name: t.name, lines },
      'container removed before its log was read to the end: its last lines were read from the attach opened at create (timestamps are read times)',
    );
  }

  async function afterEof(
    t: Tracked,
    session: LogStreamSession,
  ): Promise<void> {
    let running = false;
    try {
      const info = await docker.getContainer(t.id).inspect();
      running = info.State.Running === true;
      t.paused = info.State.Paused === true;
    } catch (error) {
      if (!isNotFound(error)) {
        onError(dockerError(error, t.id, 'inspect'));
        later(t, ERROR_RETRY_MS, () => request(t));
        return;
      }
      t.destroyed = true;
    }
    if (stopping) return;
    if (t.destroyed && session.follows && t.capture !== undefined) {
      // The engine ends a follow stream at the stop, maybe behind, and the
      // container is gone: no read to the end is possible any more.
      session.flushPartials();
      await replayCapture(t, t.capture);
    }
    if (running) {
      // Restarted meanwhile, or the engine ended the stream early.
      t.readToEnd = false;
      const now = clock.monotonicNow();
      const fast = now - t.lastEofAtMs < FAST_EOF_MS;
      t.lastEofAtMs = now;
      t.running = true;
      if (fast) later(t, FAST_EOF_MS, () => request(t));
      else request(t);
      return;
    }
    if (session.follows && !t.destroyed) {
      // The engine ends a follow stream when the container stops, even
      // when the reader is still behind (dockerd 20.10 json-file: a clean
      // EOF 14,617 entries into a 40,000-entry log). Only a read without
      // follow ends at the end of the log, so one more from the cursor.
      t.running = false;
      t.readToEnd = true;
      request(t);
      return;
    }
    t.readToEnd = false;
    // Read to the end of a stopped container: a last line without newline
    // is complete now.
    session.flushPartials();
    t.sink?.flush();
    t.cursor = session.cursor;
    t.running = false;
    if (!session.follows) {
      // Read to the end: nothing the attach saw can be missing.
      t.capture?.release();
      t.capture = undefined;
    }
    upsertPosition(t);
    if (t.destroyed) settleDestroyed(t);
    else if (t.reopen) request(t);
  }

  /**
   * A destroyed container's position goes once its last line is committed
   * (or after `destroyedSettleMs`), so a crash before that still resumes.
   */
  function settleDestroyed(t: Tracked, waitedMs = 0): void {
    if (t.phase !== 'idle') return;
    const last = t.cursor;
    const saved = savedCursor(t.id);
    const settled =
      last === undefined ||
      last.timestampNs === '' ||
      (saved !== undefined &&
        saved.timestampNs === last.timestampNs &&
        saved.linesAtTimestamp === last.linesAtTimestamp);
    if (settled || waitedMs >= config.destroyedSettleMs) {
      for (const h of t.timers) clock.clearTimeout(h);
      t.timers = [];
      t.sink?.close();
      t.capture?.release();
      tracked.delete(t.id);
      positions.remove('container', t.id);
      return;
    }
    const step = Math.min(500, Math.max(1, config.destroyedSettleMs));
    later(t, step, () => settleDestroyed(t, waitedMs + step));
  }

  function handleEvent(event: ContainerEvent): void {
    metrics.events.inc({ action: event.action });
    if (stopping) return;
    const t = tracked.get(event.id);
    switch (event.action) {
      case 'create':
        // Inspected now, so that its stream opens the moment it starts: a
        // container removed at exit (`--rm`) may be gone ~100 ms after its
        // start, and the engine refuses logs once it is marked for removal.
        // Attached before it runs, in case even that is too late.
        void track(event.id).then((c) => {
          const diedMeanwhile = diedIds.delete(event.id);
          if (c === undefined || c.excluded !== undefined || stopping) return;
          // Attached while created or running, the capture has everything
          // (`logs=1` replays what was written before it); a stopped one's
          // attach would only wait for a restart.
          if (!c.attachable || c.capture !== undefined || c.lines > 0) return;
          c.capture = new AttachCapture({
            container: docker.getContainer(c.id),
            tty: c.tty,
            clock,
            onGiveUp: (reason) =>
              logger.debug(
                { containerId: c.id, reason },
                'attach capture stopped',
              ),
          });
          // Died before the attach was made: close it once quiet.
          if (diedMeanwhile) c.capture.onDie();
        });
        return;
      case 'start': {
        const begin = (c: Tracked | undefined): void => {
          if (c === undefined) return;
          c.running = true;
          c.paused = false;
          upsertPosition(c);
          request(c);
        };
        if (t !== undefined) begin(t);
        else void track(event.id).then(begin);
        return;
      }
      case 'die':
        if (t === undefined) {
          // Its create-time inspect may still be under way.
          if (inspecting.has(event.id)) diedIds.add(event.id);
          return;
        }
        t.capture?.onDie();
        t.running = false;
        upsertPosition(t);
        if (t.session !== undefined) {
          const session = t.session;
          later(t, config.drainMs, () => {
            if (t.session !== session || t.running) return;
            t.readToEnd = true;
            session.close('drain');
          });
        }
        return;
      case 'destroy':
        diedIds.delete(event.id);
        if (t === undefined) return;
        t.destroyed = true;
        t.running = false;
        if (t.phase === 'idle') {
          if (t.excluded !== undefined) tracked.delete(t.id);
          else settleDestroyed(t);
        }
        return;
      case 'rename': {
        if (t === undefined) return;
        const name = event.attributes.name?.replace(/^\//, '');
        if (name === undefined || name === t.name) return;
        t.name = name;
        t.recordLabels = buildLabels(t);
        upsertPosition(t);
        return;
      }
      case 'pause':
      case 'unpause':
        if (t === undefined) return;
        t.paused = event.action === 'pause';
        upsertPosition(t);
        return;
    }
  }

  async function sync(missedSinceSec: number | undefined): Promise<void> {
    const list = await docker.listContainers({ all: true });
    const seen = new Set<string>();
    await Promise.all(
      list.map(async (c) => {
        seen.add(c.Id);
        const live =
          c.State === 'running' ||
          c.State === 'paused' ||
          c.State === 'restarting';
        const known = tracked.get(c.Id);
        if (known !== undefined) {
          if (live && !known.running) {
            known.running = true;
            request(known);
          } else if (
            !live &&
            known.phase === 'idle' &&
            missedSinceSec !== undefined
          ) {
            // It may have written and stopped while we were disconnected.
            known.readToEnd = true;
            request(known);
          }
          return;
        }
        const catchUp =
          savedCursor(c.Id) !== undefined ||
          (missedSinceSec !== undefined && c.Created >= missedSinceSec - 2);
        if (!live && !catchUp) return;
        const t = await track(c.Id);
        if (t === undefined) return;
        if (!live) t.readToEnd = true;
        request(t);
      }),
    );
    for (const t of tracked.values()) {
      if (seen.has(t.id) || t.destroyed) continue;
      t.destroyed = true;
      t.running = false;
      if (t.phase === 'idle') settleDestroyed(t);
    }
  }

  function checkStreams(): void {
    if (stopping) return;
    const now = clock.monotonicNow();
    if (config.staleStreamMs > 0) {
      for (const t of tracked.values()) {
        const s = t.session;
        if (s === undefined || s.backpressured || s.closedBecause !== undefined)
          continue;
        if (now - s.lastDataAtMs >= config.staleStreamMs && !s.hasPartial) {
          metrics.streamErrors.inc({ type: 'stale' });
          s.close('stale');
        }
      }
    }
    checkTimer = clock.setTimeout(checkStreams, STREAM_CHECK_MS);
    checkTimer.unref();
  }

  function checkFeedback(): void {
    const guard = config.feedbackGuard;
    if (guard === undefined || stopping) return;
    const contributors = [...tracked.values()].filter((t) => t.windowLines > 0);
    if (windowTotal >= guard.minLines && contributors.length >= 2) {
      for (const t of contributors) {
        if (
          t.windowLines / windowTotal >= guard.maxShare &&
          t.excluded === undefined
        ) {
          t.excluded = 'feedback';
          metrics.excluded.inc({ reason: 'feedback' });
          logger.warn(
            {
              containerId: t.id,
              name: t.name,
              share: t.windowLines / windowTotal,
            },
            'container excluded by the feedback-loop guard',
          );
          t.session?.close('excluded');
        }
      }
    }
    for (const t of tracked.values()) t.windowLines = 0;
    windowTotal = 0;
    guardTimer = clock.setTimeout(checkFeedback, guard.windowMs);
    guardTimer.unref();
  }

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
    checkTimer = clock.setTimeout(checkStreams, STREAM_CHECK_MS);
    checkTimer.unref();
    if (config.feedbackGuard !== undefined) {
      guardTimer = clock.setTimeout(
        checkFeedback,
        config.feedbackGuard.windowMs,
      );
      guardTimer.unref();
    }
  });

  const shutdown = once(async () => {
    stopping = true;
    if (checkTimer !== undefined) clock.clearTimeout(checkTimer);
    if (guardTimer !== undefined) clock.clearTimeout(guardTimer);
    if (started) await watcher.stop();
    await Promise.allSettled([...inspecting.values()]);
    queue.length = 0;
    for (const t of tracked.values()) {
      for (const h of t.timers) clock.clearTimeout(h);
      t.timers = [];
      if (t.phase === 'queued') t.phase = 'idle';
      t.session?.close('shutdown');
      t.capture?.release();
      // Pending multiline records were not committed: read again next start.
      t.sink?.close();
    }
    await Promise.allSettled([...sessions]);
    updateGauges();
  });

  return {
    start,
    flush: () => Promise.resolve(),
    shutdown,
    status: () =>
      [...tracked.values()].map((t) => ({
        id: t.id,
        name: t.name,
        image: t.image,
        tty: t.tty,
        state: stateOf(t),
        phase: t.phase,
        ...(t.excluded === undefined ? {} : { excluded: t.excluded }),
        lines: t.lines,
        bytes: t.bytes,
        rotations: t.rotations,
        cursor:
          t.session?.cursor ?? t.cursor ?? savedCursor(t.id) ?? START_CURSOR,
        ...(t.lastError === undefined ? {} : { lastError: t.lastError }),
      })),
  };
}
