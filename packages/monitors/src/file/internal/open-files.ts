import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { fileSourceId } from '@lc/positions';
import type { FileMetrics } from './file-metrics.js';
import type { TailedFile } from './tailed-file.js';

/** What {@link OpenFiles} needs from the monitor. */
export interface OpenFilesContext {
  /** Descriptors held at most; idle live files are closed to stay under it. */
  readonly maxOpenFiles: number;
  readonly metrics: Pick<FileMetrics, 'filesOpen'>;
  readonly onError: (error: unknown) => void;
  /** Record a read error on `f` (permission denied...). */
  readonly fileError: (f: TailedFile, error: unknown) => void;
}

/**
 * The open descriptors of tracked files, within `maxOpenFiles`: opens
 * check the identity, and make room by closing the least recently grown
 * caught-up live file.
 */
export class OpenFiles {
  private readonly maxOpenFiles: number;
  private readonly metrics: OpenFilesContext['metrics'];
  private readonly onError: (error: unknown) => void;
  private readonly fileError: OpenFilesContext['fileError'];
  private openCount = 0;
  /** Open files, least recently grown first (Map insertion order). */
  private readonly openLru = new Map<string, TailedFile>();

  constructor(ctx: OpenFilesContext) {
    this.maxOpenFiles = ctx.maxOpenFiles;
    this.metrics = ctx.metrics;
    this.onError = ctx.onError;
    this.fileError = ctx.fileError;
  }

  /** Descriptors open or being opened. */
  get count(): number {
    return this.openCount;
  }

  /** Mark `f` as just grown (last in line to be closed for room). */
  touch(f: TailedFile): void {
    this.openLru.delete(f.id);
    this.openLru.set(f.id, f);
  }

  /**
   * Open `f` by path and check it is still the same identity. False (and
   * `f` marked dirty for a retry) when no slot is free, the path is gone or
   * holds another identity; other errors are recorded on `f`.
   */
  async open(f: TailedFile): Promise<boolean> {
    if (this.openCount >= this.maxOpenFiles && !this.evictIdle()) {
      f.dirty = true; // retried on the next pass
      return false;
    }
    // Reserve the slot before awaiting: passes run several opens at once.
    this.openCount++;
    let handle: FileHandle | undefined;
    try {
      handle = await open(f.path, 'r');
      const st = await handle.stat({ bigint: true });
      if (fileSourceId(st.dev.toString(), st.ino.toString()) !== f.id) {
        // The path changed identity between stat and open; the next check sees it.
        await handle.close();
        this.openCount--;
        f.dirty = true;
        return false;
      }
      f.handle = handle;
      this.openLru.set(f.id, f);
      f.size = Number(st.size);
      f.mtimeMs = Number(st.mtimeMs);
      f.error = undefined;
      this.metrics.filesOpen.set(this.openCount);
      return true;
    } catch (error) {
      this.openCount--;
      if (handle !== undefined) handle.close().catch(this.onError);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        f.dirty = true;
        return false;
      }
      this.fileError(f, error);
      return false;
    }
  }

  /**
   * Give `f` a handle its source opened already (it may be deleted by now:
   * the handle keeps its content). Takes a slot even past `maxOpenFiles`:
   * such a file cannot be reopened by path.
   */
  adopt(
    f: TailedFile,
    handle: FileHandle,
    size: number,
    mtimeMs: number,
  ): void {
    this.openCount++;
    f.handle = handle;
    this.openLru.set(f.id, f);
    f.size = size;
    f.mtimeMs = mtimeMs;
    f.error = undefined;
    this.metrics.filesOpen.set(this.openCount);
  }

  /** Close the handle of `f`, if open; close errors go to `onError`. */
  async close(f: TailedFile): Promise<void> {
    const handle = f.handle;
    if (handle === undefined) return;
    f.handle = undefined;
    this.openLru.delete(f.id);
    this.openCount--;
    this.metrics.filesOpen.set(this.openCount);
    try {
      await handle.close();
    } catch (error) {
      this.onError(error);
    }
  }

  /** Close the least recently grown open, caught-up, live file. */
  private evictIdle(): boolean {
    let victim: TailedFile | undefined;
    for (const f of this.openLru.values()) {
      if (f.handle === undefined || f.busy) continue;
      if (f.state !== 'active' || f.finishOnly || f.backlog) continue;
      if (f.size > f.splitter.fedOffset) continue;
      victim = f;
      break;
    }
    if (victim === undefined) return false;
    const handle = victim.handle;
    victim.handle = undefined;
    this.openLru.delete(victim.id);
    this.openCount--;
    handle?.close().catch(this.onError);
    return true;
  }
}
