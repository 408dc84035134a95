import { accessSync, constants, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { positionsFilePath } from '../config/defaults.js';
import type { ConfigIssue } from '../config/raw-config.js';
import type { AgentConfig } from '../config/schema.js';
import { spillActive } from './build-pipeline.js';

/** A path the agent writes to, and the config key that decides it. */
export interface WrittenPath {
  /** Config path (`dlq.directory`); for a default, the key that would set it. */
  readonly key: string;
  /** Absolute path. */
  readonly path: string;
  /** A directory the agent creates and writes in, or a file it writes. */
  readonly kind: 'directory' | 'file';
  /** Set when the path is the default, not written in the config. */
  readonly defaulted: boolean;
}

/** Every path `lc-agent run` would create or write with `config`. */
export function writtenPaths(config: AgentConfig): WrittenPath[] {
  const dataDir = config.app.data_dir;
  const out: WrittenPath[] = [];
  const add = (
    key: string,
    given: string | undefined,
    fallback: string,
    kind: WrittenPath['kind'] = 'directory',
  ) =>
    out.push({
      key,
      path: resolve(given ?? fallback),
      kind,
      defaulted: given === undefined,
    });
  add('app.data_dir', dataDir, dataDir);
  if (config.positions.store === 'file')
    add(
      'positions.path',
      config.positions.path,
      positionsFilePath(dataDir),
      'file',
    );
  if (config.persistence.enabled)
    add(
      'persistence.directory',
      config.persistence.directory,
      resolve(dataDir, 'wal'),
    );
  if (config.dlq.enabled)
    add('dlq.directory', config.dlq.directory, resolve(dataDir, 'dlq'));
  if (spillActive(config.dispatcher))
    add(
      'dispatcher.spill.directory',
      config.dispatcher.spill.directory,
      resolve(dataDir, 'spill'),
    );
  config.sinks.file.forEach((s, i) =>
    add(`sinks.file[${i}].directory`, s.directory, s.directory),
  );
  return out;
}

/**
 * One issue per path the agent could not create or write (a file where a
 * directory must be, a read-only or unwritable parent), found without
 * creating anything: the same verdict `run` would reach when it creates
 * them. Each names the config key (for a default, the key that sets it).
 */
export function checkWrittenPaths(config: AgentConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  let dataDirBroken = false;
  for (const w of writtenPaths(config)) {
    // Defaults under a data_dir already reported would repeat its problem.
    if (w.defaulted && dataDirBroken) continue;
    const problem =
      w.kind === 'directory' ? directoryProblem(w.path) : fileProblem(w.path);
    if (problem === undefined) continue;
    if (w.key === 'app.data_dir') dataDirBroken = true;
    issues.push({
      path: w.key,
      message: `${problem}${w.defaulted ? ` (the default under app.data_dir; set ${w.key} to use another place)` : ''}`,
    });
  }
  return issues;
}

/**
 * Warnings for file include globs whose base directory does not exist (or
 * is not a readable directory): not an error, since logs may appear later
 * and are then picked up, but usually a typo.
 */
export function checkIncludeRoots(config: AgentConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.sources.files.forEach((group, i) => {
    group.include.forEach((glob, j) => {
      const base = globBase(resolve(glob));
      const found = lookUp(base);
      let problem: string | undefined;
      if (found.error !== undefined)
        problem = `${base} cannot be read (${found.error})`;
      else if (found.stats === undefined)
        problem = `${base} does not exist (yet); files are picked up when it appears`;
      else if (!found.stats.isDirectory())
        problem = `${base} is not a directory`;
      else if (!accessible(base, constants.R_OK | constants.X_OK))
        problem = `${base} is not readable by this user`;
      if (problem !== undefined)
        issues.push({
          path: `sources.files[${i}].include[${j}]`,
          message: problem,
        });
    });
  });
  return issues;
}

/** The directory part of a glob before its first wildcard segment. */
function globBase(glob: string): string {
  const segments = glob.split('/');
  const fixed: string[] = [];
  for (const s of segments.slice(0, -1)) {
    if (/[*?[\]{}]/.test(s)) break;
    fixed.push(s);
  }
  return fixed.join('/') || '/';
}

/** `stats` when `path` exists; `error` when looking failed for another reason than absence. */
function lookUp(path: string): { stats?: Stats; error?: string } {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats === undefined ? {} : { stats };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A file where a directory is expected on the way: absent, in effect.
    if (code === 'ENOTDIR') return {};
    return { error: errnoText(error) };
  }
}

function accessible(path: string, mode: number): boolean {
  return accessCode(path, mode) === undefined;
}

function accessCode(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}

function errnoText(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code === undefined ? e.message : `${e.code}`;
}

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};

/** Why the directory `path` could not be created and written in, or undefined. */
function directoryProblem(path: string): string | undefined {
  const here = lookUp(path);
  if (here.error !== undefined)
    return `${path} cannot be reached (${here.error})`;
  if (here.stats !== undefined) {
    if (!here.stats.isDirectory())
      return `${path} exists and is not a directory`;
    const code = accessCode(path, constants.W_OK | constants.X_OK);
    return code === undefined
      ? undefined
      : `${path} is not writable (${WHY[code] ?? code})`;
  }
  // Absent: the nearest existing ancestor must be a writable directory.
  let parent = dirname(path);
  for (;;) {
    const up = lookUp(parent);
    if (up.error !== undefined)
      return `${path} cannot be created: ${parent} cannot be reached (${up.error})`;
    if (up.stats !== undefined) {
      if (!up.stats.isDirectory())
        return `${path} cannot be created: ${parent} is not a directory`;
      const code = accessCode(parent, constants.W_OK | constants.X_OK);
      return code === undefined
        ? undefined
        : `${path} cannot be created: ${parent} is not writable (${WHY[code] ?? code})`;
    }
    const next = dirname(parent);
    if (next === parent) return undefined;
    parent = next;
  }
}

/** Why the file `path` could not be created or written, or undefined. */
function fileProblem(path: string): string | undefined {
  const here = lookUp(path);
  if (here.error !== undefined)
    return `${path} cannot be reached (${here.error})`;
  if (here.stats !== undefined) {
    if (here.stats.isDirectory()) return `${path} is a directory, not a file`;
    const code = accessCode(path, constants.W_OK);
    if (code !== undefined)
      return `${path} is not writable (${WHY[code] ?? code})`;
  }
  // The store also writes its journal and backups next to the file.
  return directoryProblem(dirname(path));
}
