import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { Instrumentation } from '@lc/core';
import {
  createContainerMonitor,
  createDockerFilesMonitor,
  createFileMonitor,
  createKubernetesMonitor,
  kubernetesIncludeGlobs,
  recordFileWatches,
} from '@lc/monitors';
import type { KubernetesMonitor } from '@lc/monitors';
import type { PositionManager } from '@lc/positions';
import { toMultilineOptions } from '../config/multiline-schema.js';
import type { AgentConfig } from '../config/schema.js';
import type { Generation } from './build-pipeline.js';
import type { AgentEnv } from './kubernetes-metadata.js';
import { planKubernetesMetadata } from './kubernetes-metadata.js';

/** What {@link attachSources} takes from the agent. */
export interface SourceDeps {
  readonly inst: Instrumentation;
  readonly positions: PositionManager;
  /** Where the Kubernetes API metadata looks for the cluster. @default process.env */
  readonly env?: AgentEnv;
}

/** Paths the agent writes to, which file sources must never read. */
function selfPaths(config: AgentConfig): string[] {
  if (!config.app.self_capture_guard) return [];
  return [
    resolve(config.app.data_dir),
    ...config.sinks.file.map((s) => resolve(s.directory)),
  ];
}

/**
 * The Kubernetes source's directories, never read by file groups: its
 * pod log files are read once, by it (a group over `/var/log/**` would
 * read them again, through their path or their `/var/log/containers` link).
 */
function kubernetesPaths(cfg: AgentConfig): string[] {
  const k = cfg.sources.kubernetes;
  if (!k.enabled) return [];
  return [
    resolve(k.root),
    ...(k.containers_dir === false ? [] : [resolve(k.containers_dir)]),
  ];
}

/** Create `cfg`'s file, Kubernetes and container monitors on `g`'s intake (not started). */
export function attachSources(
  g: Generation,
  cfg: AgentConfig,
  deps: SourceDeps,
): void {
  const { inst, positions } = deps;
  const guard = selfPaths(cfg);
  const k8s = kubernetesPaths(cfg);
  for (const [i, f] of cfg.sources.files.entries()) {
    const covered = f.include.filter((p) =>
      k8s.some((dir) => resolve(p).startsWith(`${dir}/`)),
    );
    if (covered.length > 0)
      inst.logger?.warn(
        { include: covered, kubernetes: k8s },
        `sources.files[${i}]: these globs are under sources.kubernetes, which reads them (once); this group does not`,
      );
  }
  g.files = cfg.sources.files.map((f) =>
    createFileMonitor({
      ...inst,
      intake: g.intake,
      positions,
      // Relative globs are relative to the agent's working directory.
      include: f.include.map((g) => resolve(g)),
      exclude: f.exclude.map((g) =>
        g.startsWith('./') || g.startsWith('../') ? resolve(g) : g,
      ),
      labels: f.labels,
      startPosition: f.start_at,
      newFileStartPosition: f.new_file_start_at,
      recentBytes: f.recent_bytes,
      rescanIntervalMs: f.rescan_interval,
      pollIntervalMs: f.poll_interval,
      maxIdlePollIntervalMs: f.max_idle_poll_interval,
      watch: f.watch,
      watchDelayMs: f.watch_delay,
      maxDepth: f.max_depth,
      includeHidden: f.include_hidden,
      followSymlinks: f.follow_symlinks,
      maxFiles: f.max_files,
      maxOpenFiles: f.max_open_files,
      idleCloseMs: f.idle_close,
      maxLineBytes: f.max_line_bytes,
      longLinePolicy: f.long_line_policy,
      encoding: f.encoding,
      partialLineFlushMs: f.partial_line_flush,
      rotatedFileGraceMs: f.rotated_file_grace,
      readCompressed: f.read_compressed,
      ...multiline(f.multiline),
      selfPaths: [...guard, ...k8s],
    }),
  );
  g.kubernetes = buildKubernetes(g, cfg, deps, guard);
  buildDocker(g, cfg, deps);
}

/**
 * `sources.docker.mode`, resolved: as configured, else files when
 * `<data_root>/containers` is readable, else api; with the reason (logged).
 */
export function dockerMode(docker: AgentConfig['sources']['docker']): {
  mode: 'files' | 'api';
  reason: string;
} {
  const dir = `${resolve(docker.data_root)}/containers`;
  if (docker.mode !== undefined)
    return { mode: docker.mode, reason: 'sources.docker.mode' };
  try {
    accessSync(dir, constants.R_OK | constants.X_OK);
    return { mode: 'files', reason: `${dir} is readable` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { mode: 'api', reason: `${dir} is not readable (${code})` };
  }
}

/** The Docker source of `cfg`, when enabled (not started): files, API, or both. */
function buildDocker(g: Generation, cfg: AgentConfig, deps: SourceDeps): void {
  const docker = cfg.sources.docker;
  g.docker = undefined;
  g.dockerFiles = undefined;
  g.dockerApiUnavailable = undefined;
  if (!docker.enabled) return;
  const { inst, positions } = deps;
  const filters = {
    includeNames: docker.include_names,
    excludeNames: docker.exclude_names,
    includeImages: docker.include_images,
    includeLabels: docker.include_labels,
    excludeLabels: docker.exclude_labels,
  };
  const { mode, reason } = dockerMode(docker);
  inst.logger?.info(
    { mode, reason, dataRoot: resolve(docker.data_root) },
    `sources.docker: ${mode} mode (${reason})`,
  );
  if (mode === 'files') {
    g.dockerFiles = createDockerFilesMonitor({
      ...inst,
      intake: g.intake,
      positions,
      dataRoot: resolve(docker.data_root),
      filters,
      labels: docker.labels,
      ...multiline(docker.multiline),
    });
    g.dockerApiUnavailable = (error) =>
      inst.logger?.warn(
        { err: error },
        'sources.docker: the engine API is not reachable; json-file logs are read from files, containers of other log drivers are not captured',
      );
  }
  g.docker = createContainerMonitor({
    ...inst,
    intake: g.intake,
    positions,
    socketPath: docker.socket,
    // A container read in files mode before resumes after its committed line.
    dataRoot: resolve(docker.data_root),
    filters,
    labels: docker.labels,
    maxConcurrentStreams: docker.max_concurrent_streams,
    ...multiline(docker.multiline),
    // Files mode: only containers of other log drivers are streamed.
    ...(mode === 'files' ? { skipLogDrivers: ['json-file'] } : {}),
  });
}

/**
 * The Kubernetes source of `cfg`, when enabled, with its API metadata
 * when that is on (neither started; `g.kubernetesMetadata` is set).
 */
function buildKubernetes(
  g: Generation,
  cfg: AgentConfig,
  deps: SourceDeps,
  guard: string[],
): KubernetesMonitor | undefined {
  const k = cfg.sources.kubernetes;
  g.kubernetesMetadata = undefined;
  if (!k.enabled) return undefined;
  const plan = planKubernetesMetadata(cfg, deps.env ?? process.env, deps.inst);
  g.kubernetesMetadata = plan;
  if (plan.off !== undefined)
    deps.inst.logger?.info(
      { reason: plan.off },
      'sources.kubernetes: no pod metadata from the Kubernetes API',
    );
  return createKubernetesMonitor({
    ...deps.inst,
    intake: g.intake,
    positions: deps.positions,
    root: resolve(k.root),
    containersDir:
      k.containers_dir === false ? false : resolve(k.containers_dir),
    include: k.include,
    exclude: k.exclude,
    labels: k.labels,
    startPosition: k.start_at,
    recentBytes: k.recent_bytes,
    maxLineBytes: k.max_line_bytes,
    longLinePolicy: k.long_line_policy,
    rescanIntervalMs: k.rescan_interval,
    pollIntervalMs: k.poll_interval,
    maxIdlePollIntervalMs: k.max_idle_poll_interval,
    watch: k.watch,
    watchDelayMs: k.watch_delay,
    maxFiles: k.max_files,
    maxOpenFiles: k.max_open_files,
    idleCloseMs: k.idle_close,
    partialLineFlushMs: k.partial_line_flush,
    rotatedFileGraceMs: k.rotated_file_grace,
    deletedFileGraceMs: k.deleted_file_grace,
    ...multiline(k.multiline),
    selfPaths: guard,
    ...(plan.metadata === undefined
      ? {}
      : {
          metadata: plan.metadata.lookup,
          // The lookup answers within pod_wait; this bound is for a bug.
          metadataTimeoutMs: Math.max(5000, k.metadata.pod_wait + 2000),
        }),
  });
}

/** `{ multiline }` when configured, else nothing (exactOptionalPropertyTypes). */
function multiline(m: Parameters<typeof toMultilineOptions>[0]): {
  multiline?: NonNullable<ReturnType<typeof toMultilineOptions>>;
} {
  const options = toMultilineOptions(m);
  return options === undefined ? {} : { multiline: options };
}

/**
 * Record, durably, that each file group (and the Kubernetes source) of `cfg` is watched since this
 * process started, so a crash loop's next run knows what rotated away
 * while it was down. Resolves once saved (at once when nothing changed).
 */
export async function recordSourceWatches(
  cfg: AgentConfig,
  positions: PositionManager,
): Promise<void> {
  const since = Math.floor(performance.timeOrigin);
  let recorded = false;
  for (const f of cfg.sources.files)
    recorded =
      recordFileWatches(
        positions,
        f.include.map((g) => resolve(g)),
        since,
      ) || recorded;
  const k8s = cfg.sources.kubernetes;
  if (k8s.enabled)
    recorded =
      recordFileWatches(
        positions,
        kubernetesIncludeGlobs({
          root: resolve(k8s.root),
          include: k8s.include,
        }),
        since,
      ) || recorded;
  if (recorded) await positions.whenSaved();
}

/** Start `g`'s sources: file groups in order, then Kubernetes, then Docker. */
export async function startSources(g: Generation): Promise<void> {
  for (const m of g.files) await m.start();
  // The watch first: the pod log files' first reads wait for its list.
  await g.kubernetesMetadata?.metadata?.start();
  await g.kubernetes?.start();
  await g.dockerFiles?.start();
  try {
    await g.docker?.start();
  } catch (error) {
    if (g.dockerApiUnavailable === undefined) throw error;
    // Files mode reads json-file logs without the engine; only other log
    // drivers need it.
    const failed = g.docker;
    g.docker = undefined;
    await failed?.shutdown();
    g.dockerApiUnavailable(error);
  }
}

/** Stop `g`'s sources (reading stops; what was read stays in the intake). */
export async function stopSources(g: Generation): Promise<void> {
  await Promise.all([
    ...g.files.map((m) => m.shutdown()),
    g.kubernetes?.shutdown(),
    g.docker?.shutdown(),
    g.dockerFiles?.shutdown(),
  ]);
  await g.kubernetesMetadata?.metadata?.shutdown();
}
