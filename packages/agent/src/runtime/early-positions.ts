import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Position, PositionStore } from '@lc/core';
import { kubernetesIncludeGlobs, recordFileWatches } from '@lc/monitors';
import { createJsonFilePositionStore } from '@lc/positions';
import { Registry } from 'prom-client';
import { DEFAULT_DATA_DIR, positionsFilePath } from '../config/defaults.js';
import { readRawConfig } from '../config/raw-config.js';
import { DEFAULT_CONFIG_YAML } from '../default-config.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import type { DataDirLock, LockHolder, LockResult } from './data-dir-lock.js';
import type { DeferredLogger } from './deferred-logger.js';
import { createDeferredLogger } from './deferred-logger.js';

/** What {@link openPositionsEarly} prepared for `runAgent`. */
export interface EarlyStart {
  /** The config text it read (validated by `runAgent`, not re-read). */
  readonly text: string | undefined;
  /** The registry the agent will serve (the store's metrics are on it). */
  readonly registry: Registry;
  /** Queues the store's log lines until the agent's logger exists. */
  readonly logger: DeferredLogger;
  /** The JSON position store, loaded, with the file watches recorded. */
  readonly store: PositionStore | undefined;
  /** The data directory's lock, when this start could take it. */
  readonly lock?: DataDirLock;
  /** Another live agent holds the data directory: nothing was touched. */
  readonly locked?: { readonly path: string; readonly holder: LockHolder };
}

const get = (o: unknown, key: string): unknown =>
  typeof o === 'object' && o !== null
    ? (o as Record<string, unknown>)[key]
    : undefined;

/**
 * The first thing `lc-agent run` does, before the pipeline's code is
 * loaded: open the JSON position store and record since when each file
 * group is watched (the process start), so that a run killed within its
 * first few hundred milliseconds (a crash loop) still tells the next run
 * which rotated generations were written while watched. Works from the
 * raw config (YAML and `${VAR}` substitution only); anything unusual
 * (another store, an unreadable or invalid config, an error) leaves it to
 * the normal start, which validates and reports. Never throws.
 */
export async function openPositionsEarly(
  configPath: string | undefined,
): Promise<EarlyStart> {
  const registry = new Registry();
  const logger = createDeferredLogger();
  let text: string | undefined;
  try {
    text =
      configPath === undefined
        ? DEFAULT_CONFIG_YAML
        : await readFile(configPath, 'utf8');
  } catch {
    return { text: undefined, registry, logger, store: undefined };
  }
  const raw = readRawConfig(text);
  if (!raw.ok) return { text, registry, logger, store: undefined };
  const positions = get(raw.raw, 'positions');
  const store = get(positions, 'store') ?? 'file';
  const sources = get(raw.raw, 'sources');
  const globs = watchedGlobs(get(sources, 'files'), get(sources, 'kubernetes'));
  if (store !== 'file' || globs === undefined)
    return { text, registry, logger, store: undefined };
  const dataDir = get(get(raw.raw, 'app'), 'data_dir') ?? DEFAULT_DATA_DIR;
  let taken: LockResult;
  try {
    taken = acquireDataDirLock(String(dataDir));
  } catch {
    return { text, registry, logger, store: undefined };
  }
  if (!taken.ok) {
    const locked = { path: taken.path, holder: taken.holder };
    return { text, registry, logger, store: undefined, locked };
  }
  const lock = taken.lock;
  const path = get(positions, 'path');
  let opened: PositionStore | undefined;
  try {
    opened = createJsonFilePositionStore({
      path: positionsFilePath(
        String(dataDir),
        path === undefined ? undefined : String(path),
      ),
      ...(get(positions, 'on_corruption') === undefined
        ? {}
        : { onCorruption: get(positions, 'on_corruption') as never }),
      ...(get(positions, 'backup_count') === undefined
        ? {}
        : { backupCount: get(positions, 'backup_count') as number }),
      ...(get(positions, 'fsync') === undefined
        ? {}
        : { fsync: get(positions, 'fsync') as never }),
      logger,
      registry,
    });
    const loaded = new Map<string, Position>();
    for (const p of await opened.load())
      loaded.set(`${p.kind}\u0000${p.id}`, p);
    const upserts: Position[] = [];
    const since = Math.floor(performance.timeOrigin);
    for (const include of globs) {
      recordFileWatches(
        {
          get: (kind, id) => loaded.get(`${kind}\u0000${id}`),
          commit: (source, cursor) => {
            const p = { ...source, cursor, updatedAtMs: Date.now() };
            loaded.set(`${source.kind}\u0000${source.id}`, p);
            upserts.push(p);
          },
        },
        include,
        since,
      );
    }
    if (upserts.length > 0) await opened.save({ upserts });
    return { text, registry, logger, store: opened, lock };
  } catch {
    // The normal start opens the store again and reports what is wrong
    // (once: what this attempt logged is discarded with its logger).
    await opened?.close().catch(() => undefined);
    const fresh = createDeferredLogger();
    return { text, registry, logger: fresh, store: undefined, lock };
  }
}

/**
 * The globs of each file group, and of the Kubernetes source when it is
 * enabled, from the raw config; undefined when there are no file sources
 * or something is not as expected (left to the normal start).
 */
function watchedGlobs(
  files: unknown,
  kubernetes: unknown,
): string[][] | undefined {
  const k8s = get(kubernetes, 'enabled') === true;
  if (!Array.isArray(files) && !k8s) return undefined;
  const out: string[][] = [];
  for (const group of Array.isArray(files) ? files : []) {
    const include = get(group, 'include');
    if (Array.isArray(include))
      out.push(include.map((g) => resolve(String(g))));
  }
  if (k8s) {
    const root = get(kubernetes, 'root');
    const include = get(kubernetes, 'include');
    try {
      out.push(
        kubernetesIncludeGlobs({
          root: resolve(typeof root === 'string' ? root : '/var/log/pods'),
          ...(typeof include === 'object' && include !== null
            ? { include: include as never }
            : {}),
        }),
      );
    } catch {
      return undefined;
    }
  }
  return out;
}
