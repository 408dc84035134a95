import { resolve } from 'node:path';
import type { Instrumentation } from '@lc/core';
import {
  createContainerMonitor,
  createFileMonitor,
  recordFileWatches,
} from '@lc/monitors';
import type { PositionManager } from '@lc/positions';
import { toMultilineOptions } from '../config/multiline-schema.js';
import type { AgentConfig } from '../config/schema.js';
import type { Generation } from './build-pipeline.js';

/** What {@link attachSources} takes from the agent. */
export interface SourceDeps {
  readonly inst: Instrumentation;
  readonly positions: PositionManager;
}

/** Paths the agent writes to, which file sources must never read. */
function selfPaths(config: AgentConfig): string[] {
  if (!config.app.self_capture_guard) return [];
  return [
    resolve(config.app.data_dir),
    ...config.sinks.file.map((s) => resolve(s.directory)),
  ];
}

/** Create `cfg`'s file and container monitors on `g`'s intake (not started). */
export function attachSources(
  g: Generation,
  cfg: AgentConfig,
  deps: SourceDeps,
): void {
  const { inst, positions } = deps;
  const guard = selfPaths(cfg);
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
      selfPaths: guard,
    }),
  );
  const docker = cfg.sources.docker;
  g.docker = docker.enabled
    ? createContainerMonitor({
        ...inst,
        intake: g.intake,
        positions,
        socketPath: docker.socket,
        filters: {
          includeNames: docker.include_names,
          excludeNames: docker.exclude_names,
          includeImages: docker.include_images,
          includeLabels: docker.include_labels,
          excludeLabels: docker.exclude_labels,
        },
        labels: docker.labels,
        maxConcurrentStreams: docker.max_concurrent_streams,
        ...multiline(docker.multiline),
      })
    : undefined;
}

/** `{ multiline }` when configured, else nothing (exactOptionalPropertyTypes). */
function multiline(m: Parameters<typeof toMultilineOptions>[0]): {
  multiline?: NonNullable<ReturnType<typeof toMultilineOptions>>;
} {
  const options = toMultilineOptions(m);
  return options === undefined ? {} : { multiline: options };
}

/**
 * Record, durably, that each file group of `cfg` is watched since this
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
  if (recorded) await positions.whenSaved();
}

/** Start `g`'s sources: file groups in order, then Docker. */
export async function startSources(g: Generation): Promise<void> {
  for (const m of g.files) await m.start();
  await g.docker?.start();
}

/** Stop `g`'s sources (reading stops; what was read stays in the intake). */
export async function stopSources(g: Generation): Promise<void> {
  await Promise.all([
    ...g.files.map((m) => m.shutdown()),
    g.docker?.shutdown(),
  ]);
}
