import { LcError, silentLogger } from '@lc/core';
import { globSyntaxError } from '@lc/monitors';
import type { Instrumentation, Sink } from '@lc/core';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import type { PositionManager } from '@lc/positions';
import { Registry } from 'prom-client';
import type { ConfigIssue } from '../config/raw-config.js';
import type { AgentConfig } from '../config/schema.js';
import { createProcessor } from '@lc/processing';
import type { Processor } from '@lc/processing';
import { buildGeneration } from './build-pipeline.js';
import type { Generation } from './build-pipeline.js';
import { buildSinks } from './build-sinks.js';
import { attachSources } from './build-sources.js';

/**
 * Factory options whose config key is not the option name in snake_case
 * (without a `Ms` suffix), per config section. A value starting with `/`
 * is a path from the config root.
 */
const RENAMED: Record<string, Record<string, string>> = {
  sink: {
    requestTimeoutMs: 'timeout',
    'rotation.maxBytes': 'max_file_bytes',
    'rotation.maxFiles': 'max_files',
    tenant: 'tenant_id',
    staticLabels: 'labels',
    basicAuth: 'password',
  },
  files: {
    startPosition: 'start_at',
    newFileStartPosition: 'new_file_start_at',
  },
  docker: {
    socketPath: 'socket',
    maxConcurrentStreams: 'max_concurrent_streams',
  },
  dispatcher: {
    'retry.maxAttempts': 'max_retries',
    'spill.minFreeBytes': 'spill.min_free',
    persist: '/persistence.mode',
  },
  positions: { flushIntervalMs: 'flush_interval' },
};

/**
 * Build every component `config` describes the way `run` does — each
 * sink, the dispatcher and processing, each file group's monitor, the
 * Docker monitor, the position manager — without starting any (nothing
 * connects, opens or creates a file), and turn every option error their
 * factories throw into an issue at the config key it came from
 * (`createFileSink: pathTemplate must be …` → `sinks.file[0].path_template:
 * must be …`). What a factory accepts here, `run` builds.
 */
export async function probeComponents(
  config: AgentConfig,
  options: {
    /** Build the sinks (false when their files could not be read). @default true */
    sinks?: boolean;
  } = {},
): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const inst: Instrumentation = {
    logger: silentLogger,
    registry: new Registry(),
    onError: () => undefined,
  };
  const attempt = <T>(
    section: string,
    path: string,
    node: unknown,
    build: () => T,
  ): T | undefined => {
    try {
      return build();
    } catch (error) {
      issues.push(optionIssue(error, section, path, node));
      return undefined;
    }
  };
  const attemptAsync = async <T>(
    section: string,
    path: string,
    node: unknown,
    build: () => Promise<T>,
  ): Promise<T | undefined> => {
    try {
      return await build();
    } catch (error) {
      issues.push(optionIssue(error, section, path, node));
      return undefined;
    }
  };
  const sinks: Sink[] = [];
  // Sinks whose files could not be read are not built (the caller reports
  // the files), and then neither is the dispatcher that needs them.
  // Custom sinks are checked by checkCustomSinks: their factories (user
  // code) are not called before `run`.
  const probeSinks = options.sinks !== false;
  if (probeSinks) {
    for (const [type, list] of Object.entries(config.sinks)) {
      if (type === 'custom') continue;
      for (const [i, sink] of (list as readonly unknown[]).entries()) {
        const only = onlySink(config, type, i);
        const built = await attemptAsync(
          'sink',
          `sinks.${type}[${i}]`,
          sink,
          () => buildSinks(only, inst),
        );
        sinks.push(...(built?.sinks ?? []));
      }
    }
  }
  const positions = attempt('positions', 'positions', config.positions, () =>
    createPositionManager({
      ...inst,
      store: createMemoryPositionStore(),
      flushIntervalMs: config.positions.flush_interval,
    }),
  );
  const processor = attempt('processing', 'processing', config.processing, () =>
    createProcessor({ ...inst, pipelines: config.processing.pipelines }),
  );
  // The dispatcher needs valid sinks: only probed when they all built.
  const gen =
    probeSinks &&
    issues.length === 0 &&
    positions !== undefined &&
    processor !== undefined
      ? await attemptAsync('dispatcher', 'dispatcher', config.dispatcher, () =>
          probeGeneration(config, inst, positions, processor),
        )
      : undefined;
  if (gen !== undefined && positions !== undefined) {
    config.sources.files.forEach((group, i) => {
      // Every bad glob, not just the first one the monitor would throw for.
      const bad = badGlobs(group, `sources.files[${i}]`);
      issues.push(...bad);
      if (bad.length > 0) return;
      attempt('files', `sources.files[${i}]`, group, () =>
        attachSources(
          gen,
          {
            ...config,
            sources: {
              ...config.sources,
              files: [group],
              docker: { ...config.sources.docker, enabled: false },
            },
          },
          { inst, positions },
        ),
      );
    });
    if (config.sources.docker.enabled)
      attempt('docker', 'sources.docker', config.sources.docker, () =>
        attachSources(
          gen,
          { ...config, sources: { ...config.sources, files: [] } },
          { inst, positions },
        ),
      );
  }
  // Built, never started: nothing to release but what a sink may hold.
  for (const s of [...sinks, ...(gen?.sinks ?? [])])
    s.shutdown().catch(() => undefined);
  void positions?.shutdown().catch(() => undefined);
  return issues;
}

/** An issue per include or exclude glob of `group` that is not a valid glob. */
function badGlobs(
  group: AgentConfig['sources']['files'][number],
  path: string,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const key of ['include', 'exclude'] as const)
    group[key].forEach((glob, j) => {
      const problem = globSyntaxError(glob);
      if (problem !== undefined)
        out.push({
          path: `${path}.${key}[${j}]`,
          message: `not a valid glob: ${problem}; got ${JSON.stringify(glob)}`,
        });
    });
  return out;
}

function probeGeneration(
  config: AgentConfig,
  inst: Instrumentation,
  positions: PositionManager,
  processor: Processor,
): Promise<Generation> {
  // Custom sinks stand in as stdout sinks of the same name and route (built,
  // never written to), so the dispatcher sees every sink without a user
  // factory being called.
  const standIns = config.sinks.custom.map((c) => ({
    name: c.name,
    format: 'text' as const,
    ...(c.match === undefined ? {} : { match: c.match }),
  }));
  return buildGeneration(
    {
      ...config,
      sinks: {
        ...config.sinks,
        stdout: [...config.sinks.stdout, ...standIns],
        custom: [],
      },
    },
    {
      inst,
      committer: positions,
      batchStore: undefined,
      deadLetters: undefined,
      processor,
    },
  );
}

/** `config` with only the `index`th sink of `type`. */
function onlySink(
  config: AgentConfig,
  type: string,
  index: number,
): AgentConfig {
  const sinks: Record<string, unknown[]> = {};
  for (const [t, list] of Object.entries(config.sinks))
    sinks[t] = t === type ? [(list as unknown[])[index]] : [];
  return { ...config, sinks: sinks as AgentConfig['sinks'] };
}

/** `fooBarMs` → `foo_bar`; `a.bC` → `a.b_c`. */
function snake(option: string): string {
  return option
    .replace(/Ms$/, '')
    .replace(/Ms(?=\.|\[)/g, '')
    .replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function has(node: unknown, key: string): boolean {
  let at = node;
  for (const part of key
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== '' && p !== undefined)) {
    if (typeof at !== 'object' || at === null || !(part in at)) return false;
    at = (at as Record<string, unknown>)[part];
  }
  return true;
}

/**
 * The factory option an error names: `details.option`, else the first word
 * after `createX: ` (`createFileSink: pathTemplate must be …`).
 */
function optionOf(error: LcError): string | undefined {
  const given = (error.details as { option?: unknown } | undefined)?.option;
  if (typeof given === 'string') return given;
  return /^\w+: (?:option )?`?([A-Za-z][\w.[\]]*)`? /.exec(error.message)?.[1];
}

/** A factory error as an issue at the config key of the option it names. */
function optionIssue(
  error: unknown,
  section: string,
  path: string,
  node: unknown,
): ConfigIssue {
  if (!LcError.isInstance(error))
    return { path, message: (error as Error).message ?? String(error) };
  const option = optionOf(error);
  // Drop the factory's name and the option: the config path says where.
  const text = error.message.replace(
    /^\w+: (?:option )?`?[A-Za-z][\w.[\]]*`? /,
    '',
  );
  if (option === undefined)
    return { path, message: error.message.replace(/^\w+: /, '') };
  const renamed = RENAMED[section]?.[option];
  if (renamed?.startsWith('/') === true)
    return { path: renamed.slice(1), message: text };
  const key = renamed ?? snake(option);
  return has(node, key)
    ? { path: `${path}.${key}`.replace(/\.\[/g, '['), message: text }
    : { path, message: `${option} ${text}` };
}
