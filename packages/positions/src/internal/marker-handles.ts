import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { FilePosition } from '@lc/core';
import { statRef } from '../file-identity.js';

/** Handles kept open between flushes, at most. */
const MAX_KEPT = 256;

interface Kept {
  readonly handle: FileHandle;
  usedAt: number;
}

/**
 * Read handles for offset markers, kept open from one flush to the next for
 * files whose positions keep moving: a busy file costs one `pread` per
 * flush instead of open + fstat + pread + close. Keyed by identity
 * (dev+inode), so a kept handle reads the right file even after a rename.
 * A handle the last flush did not use is closed when the next one begins
 * (a deleted file's space is held two flush intervals at most); past
 * {@link MAX_KEPT} a handle is used once and closed.
 */
export class MarkerHandles {
  private readonly kept = new Map<string, Kept>();
  private flushSeq = 0;

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
      hit.usedAt = this.flushSeq;
      return fn(hit.handle);
    }
    const handle = await open(p.path, 'r');
    let keep = false;
    try {
      const st = await statRef(handle);
      if (st.dev.toString() !== p.dev || st.ino.toString() !== p.ino)
        return undefined;
      keep = this.kept.size < MAX_KEPT;
      if (keep) this.kept.set(key, { handle, usedAt: this.flushSeq });
      return await fn(handle);
    } finally {
      if (!keep) await handle.close();
    }
  }

  /**
   * A flush begins: close the handles the previous flush did not use (a
   * handle lives on while its file's position keeps moving).
   */
  async beginFlush(): Promise<void> {
    const cutoff = this.flushSeq;
    this.flushSeq++;
    const stale: FileHandle[] = [];
    for (const [key, k] of this.kept) {
      if (k.usedAt < cutoff) {
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
