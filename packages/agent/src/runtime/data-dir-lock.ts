import {
  linkSync,
  mkdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** The lock file `lc-agent run` holds in its data directory. */
export const LOCK_FILE = 'lc-agent.lock';

/** What a lock file says about its holder. */
export interface LockHolder {
  readonly pid: number;
  /** Kernel start time of the process (Linux `/proc/<pid>/stat` field 22), to tell a reused pid apart. */
  readonly startTicks?: string;
  readonly host?: string;
  readonly startedAtMs?: number;
}

/** A held lock: `release()` removes the file if it is still this process's. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export type LockResult =
  | { readonly ok: true; readonly lock: DataDirLock }
  | { readonly ok: false; readonly path: string; readonly holder: LockHolder };

/** Field 22 of `/proc/<pid>/stat` (start time in clock ticks); undefined off Linux. */
function startTicks(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count after its ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether `holder` is a live process other than this one (not a reused pid). */
function holderAlive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return false; // a previous life (pid 1 in a container)
  if (holder.host !== undefined && holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const ticks = startTicks(holder.pid);
  return (
    holder.startTicks === undefined ||
    ticks === undefined ||
    ticks === holder.startTicks
  );
}

function readHolder(path: string): { text: string; holder?: LockHolder } {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number') return { text, holder: h as LockHolder };
  } catch {
    // gone, or not ours to read: no holder
  }
  return { text };
}

/**
 * Take the exclusive lock on `dataDir` (creating it): one agent per state
 * directory, since two would write the same positions, WAL and spill. The
 * file appears whole (written aside, then hard-linked into place, which
 * fails if one exists). A lock left by a process that is gone (SIGKILL,
 * power loss; also a reused pid, told apart by its start time on Linux) is
 * taken over. Throws only for I/O errors (an unwritable directory).
 */
export function acquireDataDirLock(dataDir: string): LockResult {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    ...(startTicks('self') === undefined
      ? {}
      : { startTicks: startTicks('self') as string }),
    host: hostname(),
    startedAtMs: Date.now(),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(me)}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, path);
        let released = false;
        return {
          ok: true,
          lock: {
            path,
            release() {
              if (released) return;
              released = true;
              if (readHolder(path).holder?.pid !== process.pid) return;
              try {
                unlinkSync(path);
              } catch {
                // already gone
              }
            },
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const seen = readHolder(path);
      if (seen.holder !== undefined && holderAlive(seen.holder))
        return { ok: false, path, holder: seen.holder };
      // Stale (or unreadable): remove it, unless it changed meanwhile.
      if (readHolder(path).text === seen.text) {
        try {
          unlinkSync(path);
        } catch {
          // another start took it over first
        }
      }
    }
    const last = readHolder(path);
    return { ok: false, path, holder: last.holder ?? { pid: 0 } };
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
  }
}

/**
 * The lock `lc-agent run` needs on `dataDir`: the one the early start took,
 * or taken now; otherwise a one-line reason naming the holder.
 */
export function holdDataDir(
  dataDir: string,
  early:
    | {
        readonly lock?: DataDirLock;
        readonly locked?: { path: string; holder: LockHolder };
      }
    | undefined,
): { ok: true; lock: DataDirLock } | { ok: false; message: string } {
  let result: LockResult;
  if (early?.lock !== undefined) result = { ok: true, lock: early.lock };
  else if (early?.locked !== undefined) result = { ok: false, ...early.locked };
  else {
    try {
      result = acquireDataDirLock(dataDir);
    } catch (error) {
      return {
        ok: false,
        message: `app.data_dir ${resolve(dataDir)}: cannot create its lock file: ${(error as Error).message}`,
      };
    }
  }
  if (result.ok) return result;
  const { holder, path } = result;
  return {
    ok: false,
    message: `app.data_dir ${resolve(dataDir)} is in use by another lc-agent (pid ${holder.pid}${holder.host === undefined ? '' : ` on ${holder.host}`}, lock ${path}): one agent per data directory`,
  };
}
