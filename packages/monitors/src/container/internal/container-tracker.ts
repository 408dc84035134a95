import type { Clock } from '@lc/core';
import type Dockerode from 'dockerode';
import type {
  ContainerMonitorOptions,
  ResolvedContainerMonitorOptions,
} from '../container-monitor-options.js';
import { compileContainerFilter } from './container-filter.js';
import type { ContainerMetrics } from './container-metrics.js';
import type { ContainerPositionBook } from './container-position-book.js';
import { dockerError, isNotFound, labelBuilder } from './docker-support.js';
import { detectSelfContainerId } from './self-container.js';
import type { TrackedContainer } from './tracked-container.js';
import { clearTimers, later } from './tracked-container.js';

/** What {@link ContainerTracker} needs from the monitor. */
export interface ContainerTrackerContext {
  readonly options: Pick<
    ContainerMonitorOptions,
    | 'filters'
    | 'labels'
    | 'labelAllowList'
    | 'selfContainerId'
    | 'skipLogDrivers'
  >;
  readonly config: Pick<
    ResolvedContainerMonitorOptions,
    'maxMetricContainers' | 'destroyedSettleMs'
  >;
  readonly docker: Dockerode;
  readonly clock: Clock;
  readonly book: ContainerPositionBook;
  readonly metrics: Pick<ContainerMetrics, 'excluded'>;
  readonly onError: (error: unknown) => void;
  readonly isStopping: () => boolean;
}

/**
 * The containers the monitor knows, from the first inspect to the end: an
 * inspect decides whether a container is captured (self, log driver,
 * filters) and builds its labels; a destroyed one is forgotten, with its
 * position, once its last line is committed.
 */
export class ContainerTracker {
  private readonly ctx: ContainerTrackerContext;
  private readonly tracked = new Map<string, TrackedContainer>();
  private readonly inspecting = new Map<
    string,
    Promise<TrackedContainer | undefined>
  >();
  private readonly metricKeys = new Set<string>();
  private readonly accept: ReturnType<typeof compileContainerFilter>;
  private readonly buildLabels: ReturnType<typeof labelBuilder>;
  private readonly selfId: string | undefined;

  constructor(ctx: ContainerTrackerContext) {
    this.ctx = ctx;
    const { options } = ctx;
    this.accept = compileContainerFilter(options.filters);
    this.buildLabels = labelBuilder(
      options.labels ?? {},
      options.labelAllowList ?? [],
    );
    this.selfId = options.selfContainerId ?? detectSelfContainerId();
  }

  /** The tracked container with full id `id`, if any. */
  get(id: string): TrackedContainer | undefined {
    return this.tracked.get(id);
  }

  /** Every tracked container (live: forgetting one while iterating is safe). */
  values(): IterableIterator<TrackedContainer> {
    return this.tracked.values();
  }

  /**
   * False when a container's `create` event attributes (its labels, plus
   * `name` and `image`) already show that it is not captured (self or
   * filters); true when it may be (the inspect decides).
   */
  mayCapture(
    id: string,
    attributes: Readonly<Record<string, string>>,
  ): boolean {
    if (this.selfId !== undefined && id.startsWith(this.selfId)) return false;
    const { name, image } = attributes;
    if (name === undefined || image === undefined) return true;
    return this.accept({
      name: name.replace(/^\//, ''),
      image,
      labels: attributes,
    });
  }

  /** True while container `id`'s first inspect is under way. */
  isInspecting(id: string): boolean {
    return this.inspecting.has(id);
  }

  /** Resolves once every inspect under way has settled (shutdown). */
  async settleInspections(): Promise<void> {
    await Promise.allSettled([...this.inspecting.values()]);
  }

  /**
   * Inspect and start tracking a container (once per id). Undefined when it
   * is gone, the inspect failed (reported) or the monitor is stopping.
   */
  track(id: string): Promise<TrackedContainer | undefined> {
    const known = this.tracked.get(id);
    if (known !== undefined) return Promise.resolve(known);
    const pending = this.inspecting.get(id);
    if (pending !== undefined) return pending;
    const promise = this.inspect(id).finally(() => this.inspecting.delete(id));
    this.inspecting.set(id, promise);
    return promise;
  }

  /** The container was renamed: new name, new labels, saved. */
  rename(t: TrackedContainer, name: string): void {
    t.name = name;
    t.recordLabels = this.buildLabels(t);
    this.ctx.book.upsert(t);
  }

  /** Stop tracking `t` at once (an excluded container was destroyed). */
  forget(t: TrackedContainer): void {
    this.tracked.delete(t.id);
  }

  /**
   * A destroyed container's position goes once its last line is committed
   * (or after `destroyedSettleMs`), so a crash before that still resumes.
   */
  settleDestroyed(t: TrackedContainer, waitedMs = 0): void {
    if (t.phase !== 'idle') return;
    const { book, clock, config } = this.ctx;
    const last = t.cursor;
    const saved = book.saved(t.id);
    const settled =
      last === undefined ||
      last.timestampNs === '' ||
      (saved !== undefined &&
        saved.timestampNs === last.timestampNs &&
        saved.linesAtTimestamp === last.linesAtTimestamp);
    if (settled || waitedMs >= config.destroyedSettleMs) {
      clearTimers(t, clock);
      t.sink?.close();
      t.capture?.release();
      this.tracked.delete(t.id);
      book.remove(t.id);
      return;
    }
    const step = Math.min(500, Math.max(1, config.destroyedSettleMs));
    later(t, clock, step, () => this.settleDestroyed(t, waitedMs + step));
  }

  private async inspect(id: string): Promise<TrackedContainer | undefined> {
    const { docker, metrics, book, config } = this.ctx;
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await docker.getContainer(id).inspect();
    } catch (error) {
      if (!isNotFound(error))
        this.ctx.onError(dockerError(error, id, 'inspect'));
      return undefined;
    }
    if (this.ctx.isStopping()) return undefined;
    const name = info.Name.replace(/^\//, '');
    const image = info.Config.Image;
    const containerLabels = info.Config.Labels ?? {};
    const facts = { id: info.Id, name, image, containerLabels };
    let excluded: string | undefined;
    const driver = info.HostConfig?.LogConfig?.Type ?? 'json-file';
    if (this.selfId !== undefined && info.Id.startsWith(this.selfId))
      excluded = 'self';
    else if (this.ctx.options.skipLogDrivers?.includes(driver) === true)
      excluded = 'files';
    else if (!this.accept({ name, image, labels: containerLabels }))
      excluded = 'filter';
    if (excluded !== undefined) metrics.excluded.inc({ reason: excluded });
    const resumeFrom =
      excluded === undefined ? await book.resumeFromFiles(info.Id) : undefined;
    if (this.ctx.isStopping()) return undefined;
    const metricKey =
      this.metricKeys.size < config.maxMetricContainers ||
      this.metricKeys.has(name)
        ? name
        : '_other';
    this.metricKeys.add(metricKey);
    const t: TrackedContainer = {
      id: info.Id,
      name,
      image,
      tty: info.Config.Tty === true,
      containerLabels,
      source: Object.freeze({ kind: 'container', id: info.Id }),
      recordLabels: this.buildLabels(facts),
      running: info.State.Running === true,
      autoRemove: info.HostConfig?.AutoRemove === true,
      paused: info.State.Paused === true,
      destroyed: false,
      excluded,
      phase: 'idle',
      ending: false,
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
    this.tracked.set(t.id, t);
    book.upsert(t);
    return t;
  }
}
