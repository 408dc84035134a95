import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseContainerLogLink,
  parsePodLogPath,
  podLogKey,
} from '../pod-log-path.js';

/**
 * The `/var/log/containers/<pod>_<ns>_<container>-<id>.log` links the
 * kubelet keeps, by the pod log file they point at: where the container
 * id label comes from. Links are only read, never followed for reading
 * (the pod log files are read through their own path, once).
 */
export class ContainerLinks {
  private readonly dir: string;
  /** Pod log key → container id. */
  private readonly byKey = new Map<string, string>();
  /** Link names already resolved (a name never changes target). */
  private readonly names = new Map<string, string>();
  private refreshing: Promise<void> | undefined;
  private again = false;
  /** Monotonic ms when the last completed read of the directory began. */
  private readAt = -Infinity;
  private readonly now: () => number;

  constructor(dir: string, now: () => number) {
    this.dir = dir;
    this.now = now;
  }

  /**
   * Refresh unless a read of the directory that began at or after
   * monotonic `sinceMs` already completed: files found in one scan share
   * one read.
   */
  refreshSince(sinceMs: number): Promise<void> {
    if (this.readAt >= sinceMs) return Promise.resolve();
    return this.refresh();
  }

  /** The container id of the pod log file with `key` (see `podLogKey`), if a link names it. */
  get(key: string): string | undefined {
    return this.byKey.get(key);
  }

  /**
   * Read the directory again (links created since). Calls while a refresh
   * runs share one more refresh after it, so each caller sees the
   * directory as it is after its call. A missing or unreadable directory
   * leaves the index as it was.
   */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again);
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readOnce(): Promise<void> {
    const startedAt = this.now();
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      this.readAt = startedAt;
      return;
    }
    const seen = new Set<string>();
    for (const name of entries) {
      const link = parseContainerLogLink(name);
      if (link === undefined) continue;
      seen.add(name);
      if (this.names.has(name)) continue;
      let target: string;
      try {
        target = await readlink(join(this.dir, name));
      } catch {
        continue; // not a link, or gone meanwhile
      }
      const ref = parsePodLogPath(target);
      if (ref === undefined) continue;
      const key = podLogKey(ref);
      this.names.set(name, key);
      this.byKey.set(key, link.containerId);
    }
    for (const [name, key] of this.names) {
      if (seen.has(name)) continue;
      // The link is gone (the container was removed): keep the id, the
      // files of the container may still be drained; forget the name.
      this.names.delete(name);
      if (this.byKey.size > 10_000) this.byKey.delete(key);
    }
    this.readAt = startedAt;
  }
}
