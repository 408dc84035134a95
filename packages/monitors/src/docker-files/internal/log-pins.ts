import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const CONTAINER_ID = /^[0-9a-f]{64}$/;
/** Container directories watched at once for their log to appear. */
const MAX_PENDING_DIRECTORIES = 1024;

/** Options of {@link LogPins}. */
export interface LogPinsOptions {
  /** `<data_root>/containers`. */
  readonly containersDir: string;
  /** A container's log was opened; the handle is the receiver's to close. */
  readonly onLog: (id: string, path: string, handle: FileHandle) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Opens a container's json-file log the moment the engine creates it (at
 * the container's start), so a container removed at exit (`--rm`) cannot
 * take its lines with it: the open descriptor keeps the file's content
 * after the engine deletes it. Watches `<data_root>/containers` for new
 * container directories, and each new one until its log appears.
 */
export class LogPins {
  private readonly o: LogPinsOptions;
  private root: FSWatcher | undefined;
  private readonly pending = new Map<string, FSWatcher>();
  private readonly opening = new Set<string>();
  private readonly done = new Set<string>();
  private closed = false;

  constructor(options: LogPinsOptions) {
    this.o = options;
  }

  /** Start watching; false when the directory cannot be watched. */
  start(): boolean {
    try {
      this.root = watch(
        this.o.containersDir,
        { persistent: false },
        (_event, name) => {
          const id = name?.toString();
          if (id !== undefined && CONTAINER_ID.test(id))
            this.watchContainer(id);
        },
      );
      this.root.on('error', (error) => this.o.onError(error));
      return true;
    } catch (error) {
      this.o.onError(error);
      return false;
    }
  }

  /** Stop watching (handles already given out stay the receiver's). */
  close(): void {
    this.closed = true;
    this.root?.close();
    for (const w of this.pending.values()) w.close();
    this.pending.clear();
  }

  /** The container's log was handled (or is not wanted): forget it. */
  forget(id: string): void {
    this.done.delete(id);
  }

  private watchContainer(id: string): void {
    if (this.closed || this.done.has(id) || this.pending.has(id)) return;
    if (this.pending.size >= MAX_PENDING_DIRECTORIES) return;
    const dir = join(this.o.containersDir, id);
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (_event, name) => {
        if (name?.toString() === `${id}-json.log`) this.tryOpen(id);
      });
    } catch {
      return; // removed already (its rename event), or not a directory
    }
    w.on('error', () => this.unwatch(id));
    this.pending.set(id, w);
    // Created before the watch began?
    this.tryOpen(id);
  }

  private unwatch(id: string): void {
    this.pending.get(id)?.close();
    this.pending.delete(id);
  }

  private tryOpen(id: string): void {
    if (this.closed || this.done.has(id) || this.opening.has(id)) return;
    this.opening.add(id);
    const path = join(this.o.containersDir, id, `${id}-json.log`);
    open(path, 'r').then(
      (handle) => {
        this.opening.delete(id);
        this.unwatch(id);
        if (this.closed) {
          handle.close().catch(this.o.onError);
          return;
        }
        this.done.add(id);
        this.o.onLog(id, path, handle);
      },
      (error: NodeJS.ErrnoException) => {
        this.opening.delete(id);
        if (error.code === 'ENOENT') {
          // Not written yet (the watch tells when), or the container is gone.
          return;
        }
        this.unwatch(id);
        this.o.onError(error);
      },
    );
  }
}
