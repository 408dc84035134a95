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
}

/**
 * Read handles for offset markers, kept open from one flush to the next for
 * files whose positions keep moving: a busy file costs one `pread` per
 * flush instead of open + fstat + pread + close. Keyed by identity
 * (dev+inode), so a kept handle reads the right file even after a rename.
 * A handle no flush used for `idleMs` is closed when the next flush begins
 * (flushes follow acknowledgements, many per second, and a busy file is in
 * only some of them; a deleted file's space is held about `idleMs`); past
 * {@link MAX_KEPT} a handle is used once and closed.
 */
export class MarkerHandles {
  private readonly kept = new Map<string, Kept>();
  private readonly idleMs: number;
  private readonly now: () => number;
  private flushAt = 0;

  constructor(
    idleMs = DEFAULT_IDLE_MS,
    now: () => number = () => performance.now(),
  ) {
    this.idleMs = idleMs;
    this.now = now;
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
      return fn(hit.handle);
    }
    const handle = await open(p.path, 'r');
    let keep = false;
    try {
      const st = await statRef(handle);
      if (st.dev.toString() !== p.dev || st.ino.toString() !== p.ino)
        return undefined;
      keep = this.kept.size < MAX_KEPT;
      if (keep) this.kept.set(key, { handle, usedAt: this.flushAt });
      return await fn(handle);
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
    const cutoff = this.flushAt - this.idleMs;
    const stale: FileHandle[] = [];
    for (const [key, k] of this.kept) {
      if (k.usedAt <= cutoff) {
        this.kept.delete(key);
        stale.push(k.handle);
      }
    }
    await Promise.all(stale.map((h) => h.close().catch(() => undefined)));
  }

  /** Close every kept handle. */
  async closeAll(): Promise<void> {
    const all = [...this.kept.values()].map((k) => k.handle);
    this.kept.clear();
    await Promise.all(all.map((h) => h.close().catch(() => undefined)));
  }

  /** Handles open now (tests, metrics). */
  get size(): number {
    return this.kept.size;
  }
}
