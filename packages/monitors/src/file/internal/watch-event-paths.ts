import { join } from 'node:path';

/** Names kept per directory before its cache starts over. */
const MAX_NAMES_PER_DIR = 256;
/** Directories kept before the whole cache starts over. */
const MAX_DIRS = 4096;

/**
 * The path of the file a watch event names (`join(dir, filename)`),
 * remembered per directory. A file being written gets one event per
 * write: a container's json-file log one per line, so joining (and
 * hashing a new path string for the registry lookup) cost more than
 * everything else the event does. Bounded: a directory's names, and the
 * directories, start over past a limit (a miss only joins again).
 */
export class WatchEventPaths {
  private readonly byDir = new Map<string, Map<string, string>>();

  /** `join(dir, name)`, the same string object for the same name while cached. */
  pathOf(dir: string, name: string): string {
    let names = this.byDir.get(dir);
    if (names === undefined) {
      if (this.byDir.size >= MAX_DIRS) this.byDir.clear();
      names = new Map();
      this.byDir.set(dir, names);
    }
    let path = names.get(name);
    if (path === undefined) {
      if (names.size >= MAX_NAMES_PER_DIR) names.clear();
      path = join(dir, name);
      names.set(name, path);
    }
    return path;
  }

  /** Forget every directory (the watchers were closed). */
  clear(): void {
    this.byDir.clear();
  }
}
