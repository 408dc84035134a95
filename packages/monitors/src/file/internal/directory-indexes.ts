import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FilePosition } from '@lc/core';
import { fileSourceId } from '@lc/positions';
import { isCompressedName } from './content-head.js';

/** Where a file identity lives in a directory. */
export interface DirEntry {
  readonly path: string;
  readonly mtimeMs: number;
}

/** Directory listings by identity, each directory read once. */
export class DirectoryIndexes {
  private readonly dirs = new Map<string, Map<string, DirEntry>>();
  /** Directories that could not be read (other than not existing). */
  private readonly unreadable = new Set<string>();

  /** True when `dir` was listed, or does not exist (anything in it is gone). */
  listed(dir: string): boolean {
    return this.dirs.has(dir) && !this.unreadable.has(dir);
  }

  private readonly names = new Map<string, readonly string[]>();

  /** True when a `.gz` named after `path` (`<name>….gz`) is next to it. */
  async compressedNear(path: string): Promise<boolean> {
    const dir = dirname(path);
    let names = this.names.get(dir);
    if (names === undefined) {
      names = await readdir(dir).catch(() => [] as string[]);
      this.names.set(dir, names);
    }
    const base = basename(path);
    return names.some((n) => n.startsWith(base) && isCompressedName(n));
  }

  /** Where the identity of `p` lives in the directory of its saved path. */
  async find(p: FilePosition): Promise<DirEntry | undefined> {
    const dir = dirname(p.path);
    let index = this.dirs.get(dir);
    if (index === undefined) {
      const listed = await indexDirectory(dir);
      if (listed === undefined) this.unreadable.add(dir);
      index = listed ?? new Map<string, DirEntry>();
      this.dirs.set(dir, index);
    }
    return index.get(p.id);
  }
}

/**
 * Regular files of `dir` by identity (`dev:ino`); empty when it does not
 * exist, undefined when it cannot be read.
 */
async function indexDirectory(
  dir: string,
): Promise<Map<string, DirEntry> | undefined> {
  const index = new Map<string, DirEntry>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? index : undefined;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = await stat(path, { bigint: true });
      if (!st.isFile()) continue;
      index.set(fileSourceId(st.dev.toString(), st.ino.toString()), {
        path,
        mtimeMs: Number(st.mtimeMs),
      });
    } catch {
      // vanished while indexing
    }
  }
  return index;
}
