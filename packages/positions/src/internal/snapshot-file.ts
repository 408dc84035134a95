import {
  link,
  open,
  readdir,
  readFile,
  rename,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Position } from '@lc/core';
import { parsePositions, serializeLines } from './position-file.js';

/** A snapshot file read back: valid contents, or why it is not valid. */
export type ReadSnapshot =
  | {
      readonly positions: Position[];
      readonly lines: string[];
      readonly journalSeq: number;
    }
  | { readonly reason: string }
  | undefined;

/** A rotated backup of the snapshot on disk. */
export interface BackupFile {
  readonly seq: number;
  readonly file: string;
}

/**
 * The snapshot half of the JSON position store: the position file itself
 * (atomic temp + fsync + rename + directory fsync), its rotated hard-link
 * backups (`<file>.bak.<n>`) and leftover temp files of crashed writes.
 */
export class SnapshotFile {
  readonly path: string;
  private readonly dir: string;
  private readonly base: string;
  private readonly backupPrefix: string;
  private readonly fsync: boolean;
  private tmpSeq = 0;

  constructor(path: string, dir: string, base: string, fsync: boolean) {
    this.path = path;
    this.dir = dir;
    this.base = base;
    this.backupPrefix = `${base}.bak.`;
    this.fsync = fsync;
  }

  /** Read and verify a snapshot (the file itself by default); `undefined` when absent. */
  async read(file = this.path): Promise<ReadSnapshot> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = parsePositions(text);
    return parsed.ok
      ? {
          positions: parsed.positions,
          lines: parsed.lines,
          journalSeq: parsed.journalSeq,
        }
      : { reason: parsed.reason };
  }

  /**
   * Atomically replace the file with `lines`, first hard-linking the
   * current file as the newest backup when `backupSeq` is given. Resolves
   * with the bytes written.
   */
  async write(
    lines: readonly string[],
    savedAtMs: number,
    journalSeq: number,
    backupSeq: number | undefined,
  ): Promise<number> {
    const text = serializeLines(lines, savedAtMs, journalSeq);
    const tmp = join(
      this.dir,
      `${this.base}.tmp-${process.pid}-${++this.tmpSeq}`,
    );
    try {
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(text);
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      if (backupSeq !== undefined) await this.linkBackup(backupSeq);
      await rename(tmp, this.path);
      await this.syncDir();
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw error;
    }
    return Buffer.byteLength(text);
  }

  /** Hard-link the current file as backup `seq`. */
  async linkBackup(seq: number): Promise<void> {
    await link(this.path, join(this.dir, `${this.backupPrefix}${seq}`));
  }

  /** Backups, newest first. */
  async backups(): Promise<BackupFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: BackupFile[] = [];
    for (const name of names) {
      if (!name.startsWith(this.backupPrefix)) continue;
      const seq = Number(name.slice(this.backupPrefix.length));
      if (Number.isSafeInteger(seq) && seq > 0)
        out.push({ seq, file: join(this.dir, name) });
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /** Delete all but the newest `keep` backups. */
  async pruneBackups(keep: number): Promise<void> {
    for (const { file } of (await this.backups()).slice(keep))
      await unlink(file).catch(() => {});
  }

  /** Remove temp files left by a write that crashed. */
  async removeTempFiles(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(`${this.base}.tmp-`))
        await unlink(join(this.dir, name)).catch(() => {});
    }
  }

  /** fsync the directory (renames and new files), unless fsync is off. */
  async syncDir(): Promise<void> {
    if (!this.fsync) return;
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
