import type { Clock, Logger } from '@lc/core';
import type Dockerode from 'dockerode';
import type { ResolvedContainerMonitorOptions } from '../container-monitor-options.js';
import type { AttachCapture } from './attach-capture.js';
import type { ContainerMetrics } from './container-metrics.js';
import type { ContainerPositionBook } from './container-position-book.js';
import type { ContainerTracker } from './container-tracker.js';
import {
  dockerError,
  errorMessage,
  isGoneForLogs,
  isNotFound,
} from './docker-support.js';
import type { LogStreamSession, StreamOutcome } from './log-stream-session.js';
import type { StreamPool } from './stream-pool.js';
import type { TrackedContainer } from './tracked-container.js';
import { later } from './tracked-container.js';

const FAST_EOF_MS = 250;
const ERROR_RETRY_MS = 1_000;
/** How long a gone container's attach may take to end before its capture is replayed. */
const CAPTURE_REPLAY_WAIT_MS = 5_000;

/** What {@link StreamEnd} needs from the monitor. */
export interface StreamEndContext {
  readonly config: Pick<ResolvedContainerMonitorOptions, 'maxLineBytes'>;
  readonly docker: Dockerode;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onError: (error: unknown) => void;
  readonly metrics: Pick<ContainerMetrics, 'streamErrors' | 'replayedLines'>;
  readonly book: Pick<ContainerPositionBook, 'upsert'>;
  readonly tracker: Pick<ContainerTracker, 'settleDestroyed'>;
  readonly pool: Pick<StreamPool, 'request' | 'deliver'>;
  readonly isStopping: () => boolean;
}

/**
 * What follows the end of a container's log stream: reopen it (rotation,
 * stale, restarted), read to the end of a stopped container's log, retry a
 * failed one, or, when the container went away before its log was read to
 * the end, take its last lines from the attach capture and settle it.
 */
export class StreamEnd {
  private readonly ctx: StreamEndContext;

  constructor(ctx: StreamEndContext) {
    this.ctx = ctx;
  }

  /** Handle how `session` of `t` ended (its slot is released already). */
  async handle(
    t: TrackedContainer,
    session: LogStreamSession,
    outcome: StreamOutcome,
  ): Promise<void> {
    const { clock, logger, metrics, pool, tracker } = this.ctx;
    switch (outcome.kind) {
      case 'closed':
        if (outcome.reason === 'excluded') t.sink?.flush();
        else if (outcome.reason === 'drain' && t.autoRemove && t.capture)
          await this.finishFromCapture(t, session);
        else if (outcome.reason !== 'shutdown') pool.request(t);
        return;
      case 'intake_closed':
        t.lastError = 'intake shut down';
        return;
      case 'open_failed':
      case 'read_failed': {
        const gone = isNotFound(outcome.error) || isGoneForLogs(outcome.error);
        if (gone && t.capture !== undefined) {
          await this.replayCapture(t, t.capture);
        } else if (isGoneForLogs(outcome.error)) {
          // Removed before its log could be read, and not attached since
          // its creation (it existed before the monitor started).
          metrics.streamErrors.inc({ type: 'removed_unread' });
          t.lastError = errorMessage(outcome.error);
          logger.error(
            { containerId: t.id, name: t.name, readLines: t.lines },
            'container removed before its log was read to the end: lines after the cursor, if any, are lost',
          );
        }
        if (gone) {
          t.destroyed = true;
          session.flushPartials();
          t.sink?.flush();
          tracker.settleDestroyed(t);
          return;
        }
        metrics.streamErrors.inc({ type: outcome.kind });
        t.lastError = errorMessage(outcome.error);
        logger.warn(
          { containerId: t.id, err: outcome.error },
          'log stream failed',
        );
        later(t, clock, ERROR_RETRY_MS, () => pool.request(t));
        return;
      }
      case 'eof':
        await this.afterEof(t, session);
    }
  }

  /**
   * The container went away before its log was read to the end: the rest
   * of its output since `create` comes from the attach capture.
   */
  private async replayCapture(
    t: TrackedContainer,
    capture: AttachCapture,
  ): Promise<void> {
    const { logger, metrics, pool } = this.ctx;
    t.capture = undefined;
    const lines = await capture.replay(
      t.tty,
      CAPTURE_REPLAY_WAIT_MS,
      this.ctx.config.maxLineBytes,
      { ...t.streamLines },
      (line) => {
        pool.deliver(t, line);
      },
    );
    if (lines === undefined) {
      metrics.streamErrors.inc({ type: 'removed_unread' });
      logger.error(
        { containerId: t.id, name: t.name, readLines: t.lines },
        'container removed before its log was read to the end, and its attach is not whole (made after its start): lines after the cursor, if any, are lost',
      );
      return;
    }
    if (lines === 0) {
      logger.debug(
        { containerId: t.id, name: t.name },
        'container removed: its logs stream had every line of its attach capture',
      );
      return;
    }
    metrics.replayedLines.inc(lines);
    logger.warn(
      { containerId: t.id, name: t.name, lines },
      'container removed before its log was read to the end: its last lines were read through its attach (timestamps are read times)',
    );
  }

  /**
   * An `--rm` container stopped and its follow stream ended (maybe
   * behind): the rest comes from its attach capture, not from a read
   * without follow. The engine refuses that read once the removal began,
   * and one that slips in just before has dockerd 20.10 open a new log
   * writer in the directory the removal is deleting: an empty log read
   * (lines silently missing) and a failed removal (`unlinkat …: directory
   * not empty`, the container left "Removal In Progress").
   */
  private async finishFromCapture(
    t: TrackedContainer,
    session: LogStreamSession,
  ): Promise<void> {
    t.running = false;
    t.readToEnd = false;
    session.flushPartials();
    await this.replayCapture(t, t.capture as AttachCapture);
    t.sink?.flush();
    this.ctx.book.upsert(t);
    if (t.destroyed) this.ctx.tracker.settleDestroyed(t);
  }

  /** The engine ended the stream: find out why from the container's state. */
  private async afterEof(
    t: TrackedContainer,
    session: LogStreamSession,
  ): Promise<void> {
    const { clock, pool } = this.ctx;
    let running = false;
    try {
      const info = await this.ctx.docker.getContainer(t.id).inspect();
      running = info.State.Running === true;
      t.paused = info.State.Paused === true;
    } catch (error) {
      if (!isNotFound(error)) {
        this.ctx.onError(dockerError(error, t.id, 'inspect'));
        later(t, clock, ERROR_RETRY_MS, () => pool.request(t));
        return;
      }
      t.destroyed = true;
    }
    if (this.ctx.isStopping()) return;
    if (t.destroyed && t.capture !== undefined) {
      // Gone, and no read to the end is possible any more: the engine ends
      // a follow stream at the stop, maybe behind, and a read without
      // follow ends early (in-band `Error grabbing logs`) once the log
      // file is deleted. What the streams did not deliver is replayed
      // (nothing when they read everything).
      session.flushPartials();
      await this.replayCapture(t, t.capture);
    }
    if (running) {
      // Restarted meanwhile, or the engine ended the stream early.
      t.readToEnd = false;
      const now = clock.monotonicNow();
      const fast = now - t.lastEofAtMs < FAST_EOF_MS;
      t.lastEofAtMs = now;
      t.running = true;
      if (fast) later(t, clock, FAST_EOF_MS, () => pool.request(t));
      else pool.request(t);
      return;
    }
    if (session.follows && !t.destroyed && t.autoRemove && t.capture) {
      await this.finishFromCapture(t, session);
      return;
    }
    if (session.follows && !t.destroyed) {
      // The engine ends a follow stream when the container stops, even
      // when the reader is still behind (dockerd 20.10 json-file: a clean
      // EOF 14,617 entries into a 40,000-entry log). Only a read without
      // follow ends at the end of the log, so one more from the cursor.
      t.running = false;
      t.readToEnd = true;
      pool.request(t);
      return;
    }
    if (session.failedInBand && !t.destroyed) {
      // The read did not reach the end of the log (its removal under way?):
      // again in a while; once gone, the capture replays the rest.
      t.running = false;
      t.readToEnd = true;
      later(t, clock, ERROR_RETRY_MS, () => pool.request(t));
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
    this.ctx.book.upsert(t);
    if (t.destroyed) this.ctx.tracker.settleDestroyed(t);
    else if (t.reopen) pool.request(t);
  }
}
