import { readdir, stat } from 'node:fs/promises';
import type { BigIntStats, Dirent } from 'node:fs';
import type { CompiledGlob } from './glob.js';
import { matchesAny } from './glob.js';

/** Settings of one discovery pass. */
export interface DiscoveryOptions {
  readonly includes: readonly CompiledGlob[];
  readonly excludes: readonly CompiledGlob[];
  /** Paths (files or directories) never returned nor descended. */
  readonly selfPaths: readonly string[];
  readonly maxDepth: number;
  readonly includeHidden: boolean;
  readonly followSymlinks: boolean;
  readonly maxFiles: number;
  /**
   * Known files in watched directories need no stat on a rescan (events
   * report their changes); they are listed with `undefined` stats.
   */
  readonly skipStat?: (path: string, dir: string) => boolean;
  /** Fill `rotatedPaths` (start-up only: it looks at every other file). */
  readonly collectRotated?: boolean;
}

/** Result of one pass. */
export interface DiscoveryResult {
  /** Matched regular files and their stats (symlinks resolved; `undefined` when skipped). */
  readonly files: Map<string, BigIntStats | undefined>;
  /** Directories walked, with their `dev:ino`, for watching. */
  readonly directories: Map<string, string>;
  /** Paths that matched a pattern but are not regular files (directories, fifos). */
  readonly skippedNonFiles: string[];
  /** Errors per path (permission denied on a directory...). */
  readonly errors: Array<{ path: string; error: NodeJS.ErrnoException }>;
  /** True when `maxFiles` stopped the walk. */
  readonly truncated: boolean;
  /**
   * Paths that match a pattern and have rotated generations next to them
   * (`app.log.3`, `app.log-20240101` for `app.log`), whether the path
   * itself exists or not.
   */
  readonly rotatedPaths: Set<string>;
}

/** True when `path` is one of `prefixes` or inside one of them. */
export function isUnder(path: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) {
    if (path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))
      return true;
  }
  return false;
}

/**
 * Walk the base directories of the include globs and return the regular
 * files they match. Each directory (by `dev:ino`) is read once per pass, so
 * symlink loops end; excluded directories are not descended.
 */
export async function discoverFiles(
  options: DiscoveryOptions,
): Promise<DiscoveryResult> {
  const result = {
    files: new Map<string, BigIntStats | undefined>(),
    directories: new Map<string, string>(),
    skippedNonFiles: [] as string[],
    errors: [] as Array<{ path: string; error: NodeJS.ErrnoException }>,
    truncated: false,
    rotatedPaths: new Set<string>(),
  };
  const visited = new Set<string>();
  const bases = [...new Set(options.includes.map((g) => g.base))];
  const maxDepthOf = (base: string): number => {
    let d = 0;
    for (const g of options.includes)
      if (g.base === base) d = Math.max(d, g.maxDepth);
    return Math.min(d, options.maxDepth);
  };

  const walk = async (
    dir: string,
    depth: number,
    maxDepth: number,
  ): Promise<void> => {
    if (result.truncated) return;
    let dirStats: BigIntStats;
    let entries: Dirent[];
    try {
      dirStats = await stat(dir, { bigint: true });
      if (!dirStats.isDirectory()) return;
      const key = `${dirStats.dev}:${dirStats.ino}`;
      if (visited.has(key)) return;
      visited.add(key);
      entries = await readdir(dir, { withFileTypes: true });
      result.directories.set(dir, key);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR')
        result.errors.push({ path: dir, error: e });
      return;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      const name = entry.name;
      if (!options.includeHidden && name.startsWith('.')) continue;
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (isUnder(path, options.selfPaths)) continue;
      if (options.excludes.length > 0 && matchesAny(options.excludes, path))
        continue;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        if (!options.followSymlinks) continue;
        try {
          const target = await stat(path, { bigint: true });
          isDir = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue; // dangling link
        }
      }
      if (isDir) {
        if (depth < maxDepth) {
          for (const g of options.includes) {
            if (g.mayContain(path)) {
              subdirs.push(path);
              break;
            }
          }
        }
        if (matchesAny(options.includes, path))
          result.skippedNonFiles.push(path);
        continue;
      }
      if (!matchesAny(options.includes, path)) {
        if (isFile && options.collectRotated === true) {
          const live = rotatedFrom(dir, name, options.includes);
          if (live !== undefined) result.rotatedPaths.add(live);
        }
        continue;
      }
      if (!isFile) {
        result.skippedNonFiles.push(path);
        continue;
      }
      if (result.files.size >= options.maxFiles) {
        result.truncated = true;
        return;
      }
      if (
        isFile &&
        !entry.isSymbolicLink() &&
        options.skipStat?.(path, dir) === true
      ) {
        result.files.set(path, undefined);
        continue;
      }
      try {
        result.files.set(path, await stat(path, { bigint: true }));
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        if (e.code !== 'ENOENT') result.errors.push({ path, error: e });
      }
    }
    for (const sub of subdirs) await walk(sub, depth + 1, maxDepth);
  };

  for (const base of bases) {
    if (isUnder(base, options.selfPaths)) continue;
    await walk(base, 0, maxDepthOf(base));
  }
  return result;
}

/**
 * The path a rotated generation was named after, when one matches: the
 * name cut at one of its last `.` or `-` (`app.log.3` and `app.log-2024`
 * were `app.log`). Compressed generations are not sibling generations.
 */
function rotatedFrom(
  dir: string,
  name: string,
  includes: readonly CompiledGlob[],
): string | undefined {
  if (name.endsWith('.gz')) return undefined;
  for (let i = name.length - 1; i > 0; i--) {
    const c = name[i];
    if (c !== '.' && c !== '-') continue;
    const live =
      dir === '/' ? `/${name.slice(0, i)}` : `${dir}/${name.slice(0, i)}`;
    if (matchesAny(includes, live)) return live;
  }
  return undefined;
}
