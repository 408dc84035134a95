import { basename, dirname } from 'node:path';
import type { TimerHandle } from '@lc/core';
import { getOrCreateMetric, once, silentLogger, systemClock } from '@lc/core';
import { Counter, Registry } from 'prom-client';
import { compileContainerFilter } from '../container/internal/container-filter.js';
import { labelBuilder } from '../container/internal/docker-support.js';
import type { FileStatus } from '../file/file-status.js';
import { FileMonitorEngine } from '../file/internal/file-monitor-engine.js';
import type { FileFormatFactory } from '../file/internal/line-stage.js';
import { CriMultiline } from '../kubernetes/internal/cri-multiline.js';
import type { DockerFilesMonitorOptions } from './docker-files-monitor-options.js';
import { resolveDockerFilesOptions } from './docker-files-monitor-options.js';
import type { ContainerConfig } from './internal/container-config.js';
import {
  configMtimeMs,
  readContainerConfig,
} from './internal/container-config.js';
import type { ContainerLabelSets } from '../internal/container-line-stage.js';
import type { ApiResumePoint } from './internal/json-file-stage.js';
import { JsonFileStage } from './internal/json-file-stage.js';
import { LogPins } from './internal/log-pins.js';

/**
 * Reads Docker's json-file container logs as files
 * (`<data_root>/containers/<id>/<id>-json.log` and its rotated `.1`, `.2`…)
 * with the file monitor's machinery: identities, positions, rotation,
 * deletion and the ack watermark are the file monitor's. Each record
 * carries the entry's own time (ns), `stream`, and the container's name,
 * image and labels from its `config.v2.json`; Docker's 16 KiB partial
 * entries are joined. A container's log is opened when the engine creates
 * it, so one removed at exit (`--rm`) loses nothing.
 */
export interface DockerFilesMonitor {
  /** Discover container logs, resume each from its position, start watching. Idempotent. */
  start(): Promise<void>;
  /** Read everything available now (waiting for the intake when it pushes back). */
  flush(): Promise<void>;
  /** Stop reading and watching, close every file. Idempotent. */
  shutdown(): Promise<void>;
  /** Every tracked log file (as the file monitor reports them). */
  status(): FileStatus[];
}

interface ContainerState {
  readonly id: string;
  readonly dir: string;
  /** Read once per container (and again when `config.v2.json` changes). */
  config: ContainerConfig | undefined;
  loading: Promise<void> | undefined;
  labels: ContainerLabelSets;
  captured: boolean;
  /** The API mode's resume point, for identities without a position of their own. */
  readonly apiResume: ApiResumePoint | undefined;
}

/** Malformed lines logged at most once per this long, ms. */
const MALFORMED_LOG_INTERVAL_MS = 10_000;

/**
 * Create a {@link DockerFilesMonitor}. Throws `LC_ERR_INVALID_OPTION`
 * naming a bad option. Nothing is read before `start()`.
 */
export function createDockerFilesMonitor(
  options: DockerFilesMonitorOptions,
): DockerFilesMonitor {
  const o = resolveDockerFilesOptions(options);
  const logger = (options.logger ?? silentLogger).child({
    component: 'docker-files',
  });
  const clock = options.clock ?? systemClock;
  const registry = options.registry ?? new Registry();
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.error({ err: error }, 'docker files monitor error'));
  const accept = compileContainerFilter(options.filters);
  const buildLabels = labelBuilder(
    options.labels ?? {},
    options.labelAllowList ?? [],
  );
  const longLinePolicy = options.longLinePolicy ?? 'truncate';
  const counter = (name: string, help: string): Counter =>
    getOrCreateMetric(
      registry,
      name,
      () => new Counter({ name, help, registers: [registry] }),
    );
  const joined = counter(
    'lc_docker_files_joined_lines_total',
    'Lines joined from the 16 KiB partial entries Docker writes for longer lines.',
  );
  const unterminated = counter(
    'lc_docker_files_unterminated_lines_total',
    'Partial entries emitted without the entry ending their line because the file ended.',
  );
  const malformed = counter(
    'lc_docker_files_malformed_lines_total',
    'Lines of container logs that are not json-file entries, passed through unparsed.',
  );
  const excludedTotal = counter(
    'lc_docker_files_excluded_containers_total',
    'Containers whose log files are not captured (filters).',
  );
  let lastMalformedLogAt = -Infinity;

  const containers = new Map<string, ContainerState>();

  function labelSets(
    id: string,
    c: ContainerConfig | undefined,
  ): ContainerLabelSets {
    const sets = buildLabels({
      id,
      name: c?.name ?? '',
      image: c?.image ?? '',
      containerLabels: c?.labels ?? {},
    });
    const { stream: _stream, ...base } = sets.stdout;
    return {
      base: Object.freeze(base),
      stdout: sets.stdout,
      stderr: sets.stderr,
    };
  }

  function apiResumeOf(id: string): ApiResumePoint | undefined {
    const p = options.positions.get('container', id);
    if (
      p === undefined ||
      !('lastTimestampNs' in p) ||
      p.lastTimestampNs === ''
    )
      return undefined;
    const ns = BigInt(p.lastTimestampNs);
    return {
      timestampMs: Number(ns / 1_000_000n),
      timestampNanos: Number(ns % 1_000_000n),
      lines: p.linesAtLastTimestamp,
      passed: false,
    };
  }

  function stateOf(id: string, dir: string): ContainerState {
    let s = containers.get(id);
    if (s === undefined) {
      s = {
        id,
        dir,
        config: undefined,
        loading: undefined,
        labels: labelSets(id, undefined),
        captured: true,
        apiResume: apiResumeOf(id),
      };
      containers.set(id, s);
    }
    return s;
  }

  function applyConfig(s: ContainerState, c: ContainerConfig): void {
    const first = s.config === undefined;
    s.config = c;
    s.labels = labelSets(s.id, c);
    const captured = accept({ name: c.name, image: c.image, labels: c.labels });
    if (first && !captured) {
      excludedTotal.inc();
      logger.debug(
        { containerId: s.id, name: c.name },
        'container excluded by the filters',
      );
    }
    s.captured = captured;
  }

  /** Read the container's config once (its files may be gone: then it keeps what it has). */
  function load(s: ContainerState): Promise<void> {
    s.loading ??= readContainerConfig(s.dir).then((c) => {
      if (c !== undefined) applyConfig(s, c);
      else if (s.config === undefined)
        logger.warn(
          { containerId: s.id },
          'docker files: the container config is gone before it was read; its lines are captured without name, image or labels',
        );
    });
    return s.loading;
  }

  const format: FileFormatFactory = ({
    path,
    id: fileId,
    counters,
    emit,
    isBehind,
  }) => {
    const dir = dirname(path);
    const s = stateOf(basename(dir), dir);
    const ownPosition = options.positions.get('file', fileId) !== undefined;
    const stage = new JsonFileStage({
      maxLineBytes: o.maxLineBytes,
      policy: longLinePolicy,
      counters,
      labels: () => s.labels,
      captured: () => s.captured,
      onJoined: () => joined.inc(),
      onUnterminated: () => unterminated.inc(),
      malformed: (offset, line) => {
        malformed.inc();
        const now = clock.monotonicNow();
        if (now - lastMalformedLogAt < MALFORMED_LOG_INTERVAL_MS) return;
        lastMalformedLogAt = now;
        logger.warn(
          { path, offset, line },
          'docker files: a line is not a json-file entry ({"log","stream","time"}); passed through unparsed',
        );
      },
      ...(ownPosition ? {} : { apiResume: () => s.apiResume }),
      ...(options.multiline === undefined
        ? {}
        : {
            multiline: new CriMultiline({
              multiline: options.multiline,
              clock,
              registry,
              emit,
              isBehind,
              onError,
              source: 'docker',
            }),
          }),
    });
    return { stage, prepare: () => load(s) };
  };

  const {
    multiline: _multiline,
    dataRoot: _dataRoot,
    filters: _filters,
    labelAllowList: _allow,
    pinLogs: _pin,
    configCheckIntervalMs: _check,
    ...fileOptions
  } = options;
  const engine = new FileMonitorEngine(
    {
      ...fileOptions,
      registry,
      include: o.includeGlobs,
      // The splitter keeps whole entries up to the limit plus the JSON around the message.
      maxLineBytes: o.maxLineBytes * 2 + 256,
      longLinePolicy,
      encoding: 'utf8',
      readCompressed: false,
      followSymlinks: false,
      includeHidden: false,
      maxDepth: 3,
      // A new container's log is found at once (also opened by the pins).
      newFileStartPosition: 'beginning',
    },
    { format },
  );

  const pins = new LogPins({
    containersDir: o.containersDir,
    onError: (error) =>
      logger.debug({ err: error }, 'docker files: pin failed'),
    onLog: (id, path, handle) => {
      const s = stateOf(id, dirname(path));
      void load(s);
      // Pinned from before the engine started: adopted once it has.
      engineStarted.then(() => engine.adopt(path, handle)).catch(onError);
    },
  });

  let markStarted: () => void = () => undefined;
  const engineStarted = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  let checkTimer: TimerHandle | undefined;
  let stopped = false;
  async function checkConfigs(): Promise<void> {
    for (const s of [...containers.values()]) {
      const mtime = await configMtimeMs(s.dir);
      if (mtime === undefined) {
        // Removed: the stages keep their labels; new identities cannot come.
        containers.delete(s.id);
        pins.forget(s.id);
        continue;
      }
      if (s.config !== undefined && mtime !== s.config.mtimeMs) {
        const c = await readContainerConfig(s.dir);
        if (c !== undefined) applyConfig(s, c);
      }
    }
  }
  function scheduleCheck(): void {
    if (stopped) return;
    checkTimer = clock.setTimeout(() => {
      checkConfigs().catch(onError).finally(scheduleCheck);
    }, o.configCheckIntervalMs);
    checkTimer.unref();
  }

  return {
    start: once(async () => {
      // Pins first: a container started during the engine's start-up is
      // pinned too (and read from the beginning when adopted).
      if (o.pinLogs) pins.start();
      await engine.start();
      markStarted();
      scheduleCheck();
    }),
    flush: () => engine.flush(),
    shutdown: once(async () => {
      stopped = true;
      if (checkTimer !== undefined) clock.clearTimeout(checkTimer);
      pins.close();
      await engine.shutdown();
      // Pins waiting for the start: adopt refuses them and closes each.
      markStarted();
    }),
    status: () => engine.status(),
  };
}
