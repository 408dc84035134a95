import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { FilePosition } from '@lc/core';
import { statRef } from '../file-identity.js';

/** Handles kept open between flushes, at most. */
const MAX_KEPT = 256;
/** A handle no flush used for this long is closed, ms. */
const DEFAULT_IDLE_MS = 2000;

interface Kept {
  readonly handle: FileHandle;
  usedAt: number;
  /** Calls of `use` running with this handle: never closed while > 0. */
  busy: number;
}

/** Runs `fn` once after `ms`; returns a cancel function. */
export type ScheduleSweep = (fn: () => void, ms: number) => () => void;

const unrefTimeout: ScheduleSweep = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/**
 * Read handles for offset markers, kept open from one flush to the next for
 * files whose positions keep moving: a busy file costs one `pread` per
 * flush instead of open + fstat + pread + close. Keyed by identity
 * (dev+inode), so a kept handle reads the right file even after a rename.
 * A handle no flush used for `idleMs` is closed when the next flush begins
 * (flushes follow acknowledgements, many per second, and a busy file is in
 * only some of them), or by a sweep `idleMs` after the last flush when no
 * flush comes (an idle agent saves nothing): a deleted file's space is held
 * about `idleMs` to `2 × idleMs`, never for as long as the agent stays idle.
 * Past {@link MAX_KEPT} a handle is used once and closed.
 */
export class MarkerHandles {
  private readonly kept = new Map<string, Kept>();
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly schedule: ScheduleSweep;
  private flushAt = 0;
  private cancelSweep: (() => void) | undefined;

  constructor(
    idleMs = DEFAULT_IDLE_MS,
    now: () => number = () => performance.now(),
    schedule: ScheduleSweep = unrefTimeout,
  ) {
    this.idleMs = idleMs;
    this.now = now;
    this.schedule = schedule;
  }

  /**
   * Run `fn` with a handle on `p`'s identity; `undefined` when the file at
   * `p.path` is another identity (and none is kept). Throws what `open` throws.
   */
  async use<T>(
    p: FilePosition,
    fn: (handle: FileHandle) => Promise<T>,
  ): Promise<T | undefined> {
    const key = `${p.dev}:${p.ino}`;
    const hit = this.kept.get(key);
    if (hit !== undefined) {
      hit.usedAt = this.flushAt;
      hit.busy++;
      try {
        return await fn(hit.handle);
      } finally {
        hit.busy--;
      }
    }
    const handle = await open(p.path, 'r');
    let keep = false;
    try {
      const st = await statRef(handle);
      if (st.dev.toString() !== p.dev || st.ino.toString() !== p.ino)
        return undefined;
      keep = this.kept.size < MAX_KEPT;
      if (!keep) return await fn(handle);
      const kept: Kept = { handle, usedAt: this.flushAt, busy: 1 };
      this.kept.set(key, kept);
      this.armSweep();
      try {
        return await fn(handle);
      } finally {
        kept.busy--;
      }
    } finally {
      if (!keep) await handle.close();
    }
  }

  /**
   * A flush begins: close the handles no flush used for `idleMs` (a handle
   * lives on while its file's position keeps moving).
   */
  async beginFlush(): Promise<void> {
    this.flushAt = this.now();
    await this.closeStale(this.flushAt - this.idleMs);
  }

  /** Close the handles last used at or before `cutoff` and not in use now. */
  private async closeStale(cutoff: number): Promise<void> {
    const stale: FileHandle[] = [];
    for (const [key, k] of this.kept) {
      if (k.usedAt <= cutoff && k.busy === 0) {
        this.kept.delete(key);
        stale.push(k.handle);
      }
    }
    await Promise.all(stale.map((h) => h.close().catch(() => undefined)));
  }

  /**
   * While handles are kept, a sweep runs every `idleMs` and closes those no
   * flush used for `idleMs`, so they are closed even when flushes stop.
   */
  private armSweep(): void {
    if (this.cancelSweep !== undefined || this.kept.size === 0) return;
    this.cancelSweep = this.schedule(() => {
      this.cancelSweep = undefined;
      void this.closeStale(this.now() - this.idleMs).then(() =>
        this.armSweep(),
      );
    }, this.idleMs);
  }

  /** Close every kept handle. */
  async closeAll(): Promise<void> {
    this.cancelSweep?.();
    this.cancelSweep = undefined;
    const all = [...this.kept.values()].map((k) => k.handle);
    this.kept.clear();
    await Promise.all(all.map((h) => h.close().catch(() => undefined)));
  }

  /** Handles open now (tests, metrics). */
  get size(): number {
    return this.kept.size;
  }
}
