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
  /**
   * Changes whenever `skipStat` may answer differently for a file of a
   * reused directory: a reused listing whose files were all skipped at the
   * same token skips them again without asking for each.
   */
  readonly skipStatToken?: () => number;
  /** Fill `rotatedPaths` (start-up only: it looks at every other file). */
  readonly collectRotated?: boolean;
  /**
   * Listings kept from earlier passes, reused for a directory `reuse`
   * allows whose modification time has not changed since (see
   * {@link DirectoryListings}); filled as directories are read.
   */
  readonly listings?: DirectoryListings;
  /** True when the kept listing of `dir` may be reused (its events are watched). */
  readonly reuse?: (dir: string) => boolean;
}

/** What one directory held for a pass: its entries after the globs. */
interface DirectoryListing {
  /** `dev:ino` of the directory. */
  readonly key: string;
  /** The directory's mtime when it was read, ns. */
  readonly mtimeNs: bigint;
  /** Matched regular files (not symlinks). */
  readonly files: readonly string[];
  /** Subdirectories that may hold matches. */
  readonly subdirs: readonly string[];
  readonly skippedNonFiles: readonly string[];
  /** `skipStatToken` when every file was last skipped on a reuse. */
  allSkippedAt?: number;
}

/**
 * Directory listings kept between discovery passes, by path. A directory
 * whose mtime is unchanged holds the same names (any create, delete or
 * rename in it moves its mtime), so a rescan of a watched directory with
 * 10,000 files costs one `stat` instead of a listing of 10,000 names.
 */
export type DirectoryListings = Map<string, DirectoryListing>;

/**
 * A listing is kept only when the directory's mtime is this much older
 * than the moment the listing began: file times come from the kernel's
 * coarse clock, so a name added in the same tick as (or just after) the
 * listing could leave the mtime unchanged ("racily clean", as git calls
 * it). Such a directory is listed again on the next pass.
 */
const RACY_MARGIN_NS = 2_000_000_000n;

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
  /**
   * Directories whose kept listing was reused (unchanged and watched).
   * Their files whose stat `skipStat` skips are not in `files`: nothing
   * changed about them that a listing could tell.
   */
  readonly reusedDirectories: Set<string>;
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
    reusedDirectories: new Set<string>(),
  };
  /** Matched files so far, including the ones left out of `files`. */
  let matched = 0;
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
    let listedAtNs: bigint;
    try {
      dirStats = await stat(dir, { bigint: true });
      if (!dirStats.isDirectory()) return;
      const key = `${dirStats.dev}:${dirStats.ino}`;
      if (visited.has(key)) return;
      visited.add(key);
      const kept = options.listings?.get(dir);
      if (
        kept !== undefined &&
        kept.key === key &&
        kept.mtimeNs === dirStats.mtimeNs &&
        options.reuse?.(dir) === true
      ) {
        result.directories.set(dir, key);
        await reuseListing(kept, dir, depth, maxDepth);
        return;
      }
      options.listings?.delete(dir);
      listedAtNs = BigInt(Date.now()) * 1_000_000n;
      entries = await readdir(dir, { withFileTypes: true });
      result.directories.set(dir, key);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR')
        result.errors.push({ path: dir, error: e });
      return;
    }
    const subdirs: string[] = [];
    const matchedFiles: string[] = [];
    const skippedNonFiles: string[] = [];
    // A symlink's target can change without its directory's mtime moving.
    let keep = options.listings !== undefined && !result.truncated;
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
        keep = false;
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
        if (matchesAny(options.includes, path)) skippedNonFiles.push(path);
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
        skippedNonFiles.push(path);
        continue;
      }
      if (!entry.isSymbolicLink()) matchedFiles.push(path);
      const next = take(path, dir, !entry.isSymbolicLink());
      if (next === 'stop') {
        result.skippedNonFiles.push(...skippedNonFiles);
        return;
      }
      if (next === 'stat') await statFile(path);
    }
    result.skippedNonFiles.push(...skippedNonFiles);
    if (
      keep &&
      !result.truncated &&
      dirStats.mtimeNs < listedAtNs - RACY_MARGIN_NS
    )
      options.listings?.set(dir, {
        key: `${dirStats.dev}:${dirStats.ino}`,
        mtimeNs: dirStats.mtimeNs,
        files: matchedFiles,
        subdirs,
        skippedNonFiles,
      });
    for (const sub of subdirs) await walk(sub, depth + 1, maxDepth);
  };

  /**
   * Take a matched file: `stop` when `maxFiles` ends the walk, `listed`
   * when its stat is skipped (left out of `files` in a reused directory),
   * `stat` when the caller must stat it.
   */
  const take = (
    path: string,
    dir: string,
    mayskip: boolean,
  ): 'stop' | 'listed' | 'stat' => {
    if (matched >= options.maxFiles) {
      result.truncated = true;
      return 'stop';
    }
    matched++;
    if (mayskip && options.skipStat?.(path, dir) === true) {
      if (!result.reusedDirectories.has(dir)) result.files.set(path, undefined);
      return 'listed';
    }
    return 'stat';
  };
  const statFile = async (path: string): Promise<void> => {
    try {
      result.files.set(path, await stat(path, { bigint: true }));
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') result.errors.push({ path, error: e });
    }
  };

  const reuseListing = async (
    kept: DirectoryListing,
    dir: string,
    depth: number,
    maxDepth: number,
  ): Promise<void> => {
    result.skippedNonFiles.push(...kept.skippedNonFiles);
    result.reusedDirectories.add(dir);
    const token = options.skipStatToken?.();
    if (
      token !== undefined &&
      kept.allSkippedAt === token &&
      matched + kept.files.length <= options.maxFiles
    ) {
      // Nothing that decides a skip changed: 10,000 names not looked at.
      matched += kept.files.length;
    } else {
      let allSkipped = true;
      for (const path of kept.files) {
        const next = take(path, dir, true);
        if (next === 'stop') return;
        if (next === 'stat') {
          allSkipped = false;
          await statFile(path);
        }
      }
      // The token is read again: tracking while the stats ran moves it.
      kept.allSkippedAt =
        allSkipped && token !== undefined && token === options.skipStatToken?.()
          ? token
          : undefined;
    }
    for (const sub of kept.subdirs) await walk(sub, depth + 1, maxDepth);
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
