import type { TailedFile } from './tailed-file.js';

/** Width of one parking bucket, ms (idle checks are due to within it). */
const BUCKET_MS = 250;

/**
 * Which tracked files a read pass looks at. A file is awake (visited by
 * every pass) until a pass finds it idle; then it is parked in a time
 * bucket until its next check is due, or until it is woken earlier
 * (marked dirty by a watch event or a rescan, tracked anew). A pass over
 * 10,000 idle files so visits only the few whose check is due instead of
 * walking all of them every second.
 */
export class FileWakeups {
  private readonly awake = new Set<TailedFile>();
  private readonly buckets = new Map<number, Set<TailedFile>>();
  private readonly parkedIn = new Map<TailedFile, number>();
  /** The first bucket not released yet (every bucket before it is empty). */
  private cursor = -Infinity;

  /** Files parked now. */
  get parkedCount(): number {
    return this.parkedIn.size;
  }

  /** Files awake now. */
  get awakeCount(): number {
    return this.awake.size;
  }

  /** Visit `f` in the next pass (unpark it if parked). */
  wake(f: TailedFile): void {
    this.unpark(f);
    this.awake.add(f);
  }

  /**
   * Leave `f` out of passes until monotonic `dueAt` (or until woken).
   * Already due: it stays awake.
   */
  park(f: TailedFile, dueAt: number): void {
    const key = Math.ceil(dueAt / BUCKET_MS);
    if (!(key >= this.cursor) || !Number.isFinite(key)) {
      this.wake(f);
      return;
    }
    this.unpark(f);
    this.awake.delete(f);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(key, bucket);
    }
    bucket.add(f);
    this.parkedIn.set(f, key);
  }

  /** Drop `f` (no longer tracked). */
  forget(f: TailedFile): void {
    this.unpark(f);
    this.awake.delete(f);
  }

  /** Wake the files parked until `now` or before; return the awake files. */
  due(now: number): TailedFile[] {
    const nowKey = Math.floor(now / BUCKET_MS);
    if (nowKey >= this.cursor) {
      if (nowKey - this.cursor > this.buckets.size) {
        // A long gap (or the first call): look at the buckets themselves.
        for (const key of [...this.buckets.keys()])
          if (key <= nowKey) this.release(key);
      } else {
        for (let key = this.cursor; key <= nowKey; key++) this.release(key);
      }
      this.cursor = nowKey + 1;
    }
    return [...this.awake];
  }

  private release(key: number): void {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return;
    this.buckets.delete(key);
    for (const f of bucket) {
      this.parkedIn.delete(f);
      this.awake.add(f);
    }
  }

  private unpark(f: TailedFile): void {
    const key = this.parkedIn.get(f);
    if (key === undefined) return;
    this.parkedIn.delete(f);
    const bucket = this.buckets.get(key);
    bucket?.delete(f);
    if (bucket?.size === 0) this.buckets.delete(key);
  }
}
