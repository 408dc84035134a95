import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import type { FileMetrics } from './file-metrics.js';

/** fs.watch is used on at most this many directories; the rest are polled. */
const MAX_WATCHED_DIRECTORIES = 4096;

interface WatchedDir {
  readonly key: string;
  readonly watcher: FSWatcher;
}

/** What {@link DirectoryWatchers} needs from the monitor. */
export interface DirectoryWatchersContext {
  /** `watch` option: when false, nothing is watched. */
  readonly enabled: boolean;
  readonly metrics: Pick<FileMetrics, 'directoriesWatched'>;
  /** An event in `dir`; `filename` null when the platform does not say. */
  readonly onEvent: (dir: string, filename: string | Buffer | null) => void;
  /** A watcher failed and was dropped: the next rescan must cover its directory. */
  readonly onWatcherError: () => void;
}

/** `fs.watch` on the walked directories, kept in step with each rescan. */
export class DirectoryWatchers {
  private readonly watchers = new Map<string, WatchedDir>();
  private readonly enabled: boolean;
  private readonly metrics: DirectoryWatchersContext['metrics'];
  private readonly onEvent: DirectoryWatchersContext['onEvent'];
  private readonly onWatcherError: () => void;

  constructor(ctx: DirectoryWatchersContext) {
    this.enabled = ctx.enabled;
    this.metrics = ctx.metrics;
    this.onEvent = ctx.onEvent;
    this.onWatcherError = ctx.onWatcherError;
  }

  /** True when `dir` is watched (its known files need no stat on a rescan). */
  has(dir: string): boolean {
    return this.watchers.has(dir);
  }

  /** Watch `directories` (path → `dev:ino`); stop watching the others. */
  sync(directories: Map<string, string>): void {
    if (!this.enabled) return;
    for (const [dir, w] of this.watchers) {
      if (directories.get(dir) !== w.key) {
        w.watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const [dir, key] of directories) {
      if (
        this.watchers.has(dir) ||
        this.watchers.size >= MAX_WATCHED_DIRECTORIES
      )
        continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, filename) =>
          this.onEvent(dir, filename),
        );
        watcher.on('error', () => {
          watcher.close();
          if (this.watchers.get(dir)?.watcher === watcher)
            this.watchers.delete(dir);
          this.onWatcherError();
        });
        this.watchers.set(dir, { key, watcher });
      } catch {
        // Directory vanished or inotify limit reached: the rescan covers it.
      }
    }
    this.metrics.directoriesWatched.set(this.watchers.size);
  }

  /** Close every watcher (shutdown). */
  closeAll(): void {
    for (const w of this.watchers.values()) w.watcher.close();
    this.watchers.clear();
  }
}
