/** How often the parent is checked by default, ms. */
export const PARENT_POLL_MS = 1000;

/** Options for {@link watchParent}. */
export interface ParentWatchOptions {
  /** Called once, when the parent is gone (the process was re-parented). */
  onGone(info: {
    readonly parentPid: number;
    readonly newParentPid: number;
  }): void;
  /** Check interval, ms. @default 1000 */
  intervalMs?: number;
  /** The parent's pid now (injectable for tests). @default () => process.ppid */
  ppid?: () => number;
}

/** A running parent watch. */
export interface ParentWatch {
  /**
   * Whether the parent is watched: false when it is init (pid 1, or 0 for
   * pid 1 itself), which never goes away, so there is nothing to watch.
   */
  readonly watching: boolean;
  /** The parent's pid at start. */
  readonly parentPid: number;
  /** Stop watching. Idempotent. */
  stop(): void;
}

/**
 * Call `onGone` once the process that started this one has exited. Linux
 * has no portable "parent death signal" for Node, but an orphan is
 * re-parented (to init or the nearest subreaper: systemd, tini, a
 * container runtime), so a changed `ppid` means the parent is gone. The
 * timer is unref'd: it never keeps the process alive.
 */
export function watchParent(options: ParentWatchOptions): ParentWatch {
  const ppid = options.ppid ?? (() => process.ppid);
  const parentPid = ppid();
  if (parentPid <= 1) {
    return { watching: false, parentPid, stop: () => {} };
  }
  const timer = setInterval(() => {
    const now = ppid();
    if (now === parentPid) return;
    clearInterval(timer);
    options.onGone({ parentPid, newParentPid: now });
  }, options.intervalMs ?? PARENT_POLL_MS);
  timer.unref();
  return { watching: true, parentPid, stop: () => clearInterval(timer) };
}
