import type {
  Clock,
  Intake,
  Logger,
  MetricsRegistry,
  TimerHandle,
} from '@lc/core';
import type Dockerode from 'dockerode';
import type {
  ContainerMonitorOptions,
  ResolvedContainerMonitorOptions,
} from '../container-monitor-options.js';
import type { AssembledLine } from '../line-assembler.js';
import { START_CURSOR } from '../line-assembler.js';
import type { ContainerLineSink } from './container-line-sink.js';
import { createContainerLineSink } from './container-line-sink.js';
import type { ContainerMetrics } from './container-metrics.js';
import type { ContainerPositionBook } from './container-position-book.js';
import type { ContainerTracker } from './container-tracker.js';
import type { FeedbackGuard } from './feedback-guard.js';
import type { StreamOutcome } from './log-stream-session.js';
import { LogStreamSession } from './log-stream-session.js';
import type { TrackedContainer } from './tracked-container.js';
import { clearTimers, later } from './tracked-container.js';

const STREAM_CHECK_MS = 1_000;
const ROTATION_RETRY_MS = 100;

/** What {@link StreamPool} needs from the monitor. */
export interface StreamPoolContext {
  readonly options: Pick<ContainerMonitorOptions, 'multiline'>;
  readonly config: Pick<
    ResolvedContainerMonitorOptions,
    | 'maxConcurrentStreams'
    | 'streamRotationMs'
    | 'staleStreamMs'
    | 'maxLineBytes'
  >;
  readonly docker: Dockerode;
  readonly intake: Intake;
  readonly clock: Clock;
  readonly registry: MetricsRegistry;
  readonly logger: Logger;
  readonly onError: (error: unknown) => void;
  readonly metrics: ContainerMetrics;
  readonly book: Pick<ContainerPositionBook, 'saved'>;
  readonly tracker: Pick<ContainerTracker, 'values'>;
  readonly feedback: Pick<FeedbackGuard, 'noteLine'>;
  /**
   * What follows the end of a stream, once its slot is released (not
   * called while stopping).
   */
  readonly onStreamEnd: (
    t: TrackedContainer,
    session: LogStreamSession,
    outcome: StreamOutcome,
  ) => Promise<void>;
  readonly isStopping: () => boolean;
}

/**
 * The bounded pool of log streams: containers wait in a queue for one of
 * `maxConcurrentStreams` slots; each open stream delivers into its
 * container's line path, is rotated every `streamRotationMs` (never inside
 * a split line) and closed when stale. A container asked for while
 * streaming reopens when its stream ends.
 */
export class StreamPool {
  private readonly ctx: StreamPoolContext;
  private readonly queue: TrackedContainer[] = [];
  private readonly sessions = new Set<Promise<void>>();
  private active = 0;
  private checkTimer: TimerHandle | undefined;

  constructor(ctx: StreamPoolContext) {
    this.ctx = ctx;
  }

  /** Open a stream for `t` when a slot is free (queued until then). */
  request(t: TrackedContainer): void {
    if (this.ctx.isStopping() || t.excluded !== undefined) return;
    if (t.phase === 'streaming') {
      t.reopen = true;
      return;
    }
    if (t.phase === 'queued') return;
    t.phase = 'queued';
    this.queue.push(t);
    this.pump();
  }

  /** Count a line read from `t` and hand it to its line path; `false` asks to pause. */
  deliver(t: TrackedContainer, line: AssembledLine): boolean {
    const { metrics } = this.ctx;
    t.lines++;
    t.streamLines[line.stream]++;
    t.capture?.noteDelivered(line);
    t.bytes += line.bytes;
    this.ctx.feedback.noteLine(t);
    metrics.lines.inc({ container: t.metricKey });
    metrics.bytes.inc({ container: t.metricKey }, line.bytes);
    return (t.sink as ContainerLineSink).deliver(line);
  }

  /** Start closing stale streams (every second). */
  startChecks(): void {
    this.checkTimer = this.ctx.clock.setTimeout(
      () => this.checkStreams(),
      STREAM_CHECK_MS,
    );
    this.checkTimer.unref();
  }

  /** Stop the stale checks (shutdown). */
  stopChecks(): void {
    if (this.checkTimer !== undefined)
      this.ctx.clock.clearTimeout(this.checkTimer);
  }

  /** Empty the queue (shutdown: queued containers open no stream). */
  clearQueue(): void {
    this.queue.length = 0;
  }

  /** Resolves once every stream's end was handled (shutdown, after closing them). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.sessions]);
  }

  /** Publish the pool gauges. */
  updateGauges(): void {
    const { metrics, config } = this.ctx;
    metrics.activeStreams.set(this.active);
    metrics.queuedStreams.set(this.queue.length);
    metrics.poolUtilization.set(this.active / config.maxConcurrentStreams);
  }

  private pump(): void {
    while (
      !this.ctx.isStopping() &&
      this.active < this.ctx.config.maxConcurrentStreams &&
      this.queue.length > 0
    ) {
      const t = this.queue.shift() as TrackedContainer;
      if (t.phase !== 'queued') continue;
      if (t.excluded !== undefined) {
        t.phase = 'idle';
        continue;
      }
      this.openStream(t);
    }
    this.updateGauges();
  }

  private openStream(t: TrackedContainer): void {
    const { ctx } = this;
    const { clock, metrics, logger, config } = ctx;
    t.phase = 'streaming';
    t.reopen = false;
    this.active++;
    const resumeFrom = t.cursor ?? ctx.book.saved(t.id) ?? START_CURSOR;
    // One line path per container, kept across streams: a record pending
    // when a stream is rotated or reopened continues in the next one.
    t.sink ??= createContainerLineSink({
      multiline: ctx.options.multiline,
      initialCursor: resumeFrom,
      dispatch: (stream, text, timestamp, cursor) =>
        ctx.intake.dispatch({
          line: text,
          timestampMs: timestamp.timestampMs,
          timestampNanos: timestamp.timestampNanos,
          labels: t.recordLabels[stream],
          source: t.source,
          cursor,
        }),
      isBehind: () => t.session?.backpressured === true,
      clock,
      registry: ctx.registry,
      onError: ctx.onError,
    });
    const session = new LogStreamSession({
      container: ctx.docker.getContainer(t.id),
      tty: t.tty,
      resumeFrom,
      follow: !t.readToEnd,
      maxLineBytes: config.maxLineBytes,
      intake: ctx.intake,
      deliver: (line) => this.deliver(t, line),
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
      later(t, clock, config.streamRotationMs, () => this.rotate(t, session));
    }
    const done = session
      .run()
      .then((outcome) => this.onStreamEnd(t, session, outcome))
      .catch((error: unknown) => ctx.onError(error))
      .finally(() => this.sessions.delete(done));
    this.sessions.add(done);
  }

  private rotate(t: TrackedContainer, session: LogStreamSession): void {
    if (t.session !== session || this.ctx.isStopping()) return;
    // Never cut between the chunks of a split line: the cursor could not
    // describe the half already delivered on the other stream.
    // Nor before the replayed entries were skipped: with a rotation shorter
    // than the replay, every stream would end before reaching new lines.
    if (session.hasPartial || session.isReplaying) {
      later(t, this.ctx.clock, ROTATION_RETRY_MS, () =>
        this.rotate(t, session),
      );
      return;
    }
    t.rotations++;
    this.ctx.metrics.rotations.inc();
    session.close('rotation');
  }

  /** Release the slot, keep the cursor, then let the monitor decide what follows. */
  private async onStreamEnd(
    t: TrackedContainer,
    session: LogStreamSession,
    outcome: StreamOutcome,
  ): Promise<void> {
    const { clock } = this.ctx;
    this.active--;
    t.session = undefined;
    t.phase = 'idle';
    t.ending = true;
    clearTimers(t, clock);
    t.cursor = session.cursor;
    this.ctx.metrics.streamAge.observe(
      (clock.monotonicNow() - session.openedAtMs) / 1000,
    );
    try {
      if (this.ctx.isStopping()) return;
      await this.ctx.onStreamEnd(t, session, outcome);
    } finally {
      t.ending = false;
      this.pump();
    }
  }

  private checkStreams(): void {
    const { ctx } = this;
    if (ctx.isStopping()) return;
    const now = ctx.clock.monotonicNow();
    if (ctx.config.staleStreamMs > 0) {
      for (const t of ctx.tracker.values()) {
        const s = t.session;
        if (s === undefined || s.backpressured || s.closedBecause !== undefined)
          continue;
        if (now - s.lastDataAtMs >= ctx.config.staleStreamMs && !s.hasPartial) {
          ctx.metrics.streamErrors.inc({ type: 'stale' });
          s.close('stale');
        }
      }
    }
    this.startChecks();
  }
}
