import type { Clock, Logger } from '@lc/core';
import type Dockerode from 'dockerode';
import type { ResolvedContainerMonitorOptions } from '../container-monitor-options.js';
import { AttachCapture } from './attach-capture.js';
import type { ContainerMetrics } from './container-metrics.js';
import type { ContainerPositionBook } from './container-position-book.js';
import type { ContainerTracker } from './container-tracker.js';
import type { ContainerEvent } from './event-watcher.js';
import type { StreamPool } from './stream-pool.js';
import type { TrackedContainer } from './tracked-container.js';
import { later } from './tracked-container.js';

/** What {@link ContainerDiscovery} needs from the monitor. */
export interface ContainerDiscoveryContext {
  readonly config: Pick<ResolvedContainerMonitorOptions, 'drainMs'>;
  readonly docker: Dockerode;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<ContainerMetrics, 'events' | 'streamErrors'>;
  readonly book: Pick<ContainerPositionBook, 'saved' | 'upsert'>;
  readonly tracker: ContainerTracker;
  readonly pool: Pick<StreamPool, 'request'>;
  readonly isStopping: () => boolean;
}

/**
 * Turns what the engine says into stream requests: container events
 * (create, start, die, destroy, rename, pause) and, at each (re)connection
 * of the events stream, the container list, so that nothing started,
 * stopped or removed while disconnected is missed.
 */
export class ContainerDiscovery {
  private readonly ctx: ContainerDiscoveryContext;
  /** Containers that died while their first inspect was under way. */
  private readonly diedIds = new Set<string>();

  constructor(ctx: ContainerDiscoveryContext) {
    this.ctx = ctx;
  }

  /** Act on one container event. */
  handle(event: ContainerEvent): void {
    const { tracker, book, pool } = this.ctx;
    this.ctx.metrics.events.inc({ action: event.action });
    if (this.ctx.isStopping()) return;
    const t = tracker.get(event.id);
    switch (event.action) {
      case 'create':
        this.created(event.id, event.attributes);
        return;
      case 'start': {
        const startedAtMs = epochMs(event.timeNano);
        const begin = (c: TrackedContainer | undefined): void => {
          if (c === undefined) return;
          c.capture?.onStart(startedAtMs);
          c.running = true;
          c.paused = false;
          book.upsert(c);
          pool.request(c);
        };
        if (t !== undefined) begin(t);
        else void tracker.track(event.id).then(begin);
        return;
      }
      case 'die':
        if (t === undefined) {
          // Its create-time inspect may still be under way.
          if (tracker.isInspecting(event.id)) this.diedIds.add(event.id);
          return;
        }
        t.capture?.onDie();
        t.running = false;
        book.upsert(t);
        if (t.session !== undefined) {
          const session = t.session;
          later(t, this.ctx.clock, this.ctx.config.drainMs, () => {
            if (t.session !== session || t.running) return;
            t.readToEnd = true;
            session.close('drain');
          });
        }
        return;
      case 'destroy':
        this.diedIds.delete(event.id);
        if (t === undefined) return;
        t.destroyed = true;
        t.running = false;
        this.gone(t);
        return;
      case 'rename': {
        if (t === undefined) return;
        const name = event.attributes.name?.replace(/^\//, '');
        if (name === undefined || name === t.name) return;
        tracker.rename(t, name);
        return;
      }
      case 'pause':
      case 'unpause':
        if (t === undefined) return;
        t.paused = event.action === 'pause';
        book.upsert(t);
        return;
    }
  }

  /**
   * Reconcile with the container list after a (re)connection;
   * `missedSinceSec` is when events may have been missed from (undefined
   * on the first connection).
   */
  async sync(missedSinceSec: number | undefined): Promise<void> {
    const { tracker, book, pool } = this.ctx;
    const list = await this.ctx.docker.listContainers({ all: true });
    const seen = new Set<string>();
    await Promise.all(
      list.map(async (c) => {
        seen.add(c.Id);
        const live =
          c.State === 'running' ||
          c.State === 'paused' ||
          c.State === 'restarting';
        const known = tracker.get(c.Id);
        if (known !== undefined) {
          if (live && !known.running) {
            known.running = true;
            pool.request(known);
          } else if (
            !live &&
            known.phase === 'idle' &&
            missedSinceSec !== undefined
          ) {
            // It may have written and stopped while we were disconnected.
            known.readToEnd = true;
            pool.request(known);
          }
          return;
        }
        const catchUp =
          book.saved(c.Id) !== undefined ||
          (missedSinceSec !== undefined && c.Created >= missedSinceSec - 2);
        if (!live && !catchUp) return;
        const t = await tracker.track(c.Id);
        if (t === undefined) return;
        if (!live) t.readToEnd = true;
        pool.request(t);
      }),
    );
    for (const t of tracker.values()) {
      if (seen.has(t.id) || t.destroyed) continue;
      t.destroyed = true;
      t.running = false;
      this.gone(t);
    }
  }

  /**
   * `t` was removed. Queued, streaming or with its last stream's end being
   * handled, that is where it is settled. Idle with an attach capture, its
   * log may not have been read to the end: a stream is asked for, whose
   * open fails (gone) and replays the capture before settling (settling
   * here would drop the capture unread).
   */
  private gone(t: TrackedContainer): void {
    const { tracker, pool } = this.ctx;
    if (t.phase !== 'idle' || t.ending) return;
    if (t.excluded !== undefined) tracker.forget(t);
    else if (t.capture !== undefined) pool.request(t);
    else tracker.settleDestroyed(t);
  }

  /**
   * Attached at once, in parallel with its first inspect, so that the
   * attach reaches the engine before the container runs: a container
   * removed at exit (`--rm`) may be gone ~100 ms after its start, the
   * engine refuses logs once it is marked for removal, and under load an
   * inspect can wait seconds for the container's lock (held by its start),
   * long enough for the container to run, exit and be removed meanwhile.
   * Not attached when the event's attributes already show it excluded;
   * the capture is released if the inspect excludes the container or
   * finds it gone; otherwise its stream opens the moment it starts.
   */
  private created(
    id: string,
    attributes: Readonly<Record<string, string>>,
  ): void {
    const { tracker, docker, clock, logger } = this.ctx;
    if (
      tracker.get(id) !== undefined ||
      tracker.isInspecting(id) ||
      !tracker.mayCapture(id, attributes)
    ) {
      void tracker.track(id);
      return;
    }
    const capture = new AttachCapture({
      container: docker.getContainer(id),
      clock,
      onGiveUp: (reason) =>
        logger.debug({ containerId: id, reason }, 'attach capture stopped'),
    });
    void tracker.track(id).then((c) => {
      const diedMeanwhile = this.diedIds.delete(id);
      if (c === undefined && capture.hasOutput && !this.ctx.isStopping()) {
        // Gone before its inspect answered: no labels, no stream format.
        this.ctx.metrics.streamErrors.inc({ type: 'removed_unread' });
        logger.error(
          { containerId: id },
          'container removed before it could be inspected: its output is lost',
        );
      }
      if (
        c === undefined ||
        c.excluded !== undefined ||
        c.capture !== undefined ||
        c.lines > 0 ||
        this.ctx.isStopping()
      ) {
        capture.release();
        return;
      }
      c.capture = capture;
      // Died before it was tracked: close the attach once quiet.
      if (diedMeanwhile) capture.onDie();
    });
  }
}

/** Epoch ms of an event's `timeNano`, if given. */
function epochMs(timeNano: string): number | undefined {
  return /^\d+$/.test(timeNano)
    ? Number(BigInt(timeNano) / 1_000_000n)
    : undefined;
}
