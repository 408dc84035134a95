import type { PodInfo } from './pod-info.js';

interface Waiter {
  readonly uid: string;
  readonly resolve: (pod: PodInfo | undefined) => void;
}

/**
 * The node's pods by uid, as the watch last saw them. Deleted pods are
 * kept for `retentionMs` after their deletion: a short-lived pod's log
 * files may be found after the API already forgot it.
 */
export class PodCache {
  private readonly live = new Map<string, PodInfo>();
  /** Deleted pods and when they were deleted (monotonic ms), oldest first. */
  private readonly deleted = new Map<string, { pod: PodInfo; atMs: number }>();
  private readonly waiters = new Set<Waiter>();
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly onChange: (livePods: number) => void;

  constructor(
    retentionMs: number,
    now: () => number,
    onChange: (livePods: number) => void = () => undefined,
  ) {
    this.retentionMs = retentionMs;
    this.now = now;
    this.onChange = onChange;
  }

  /** Pods known alive. */
  get size(): number {
    return this.live.size;
  }

  /** The pod with `uid`, alive or deleted within the retention. */
  get(uid: string): PodInfo | undefined {
    this.expire();
    return this.live.get(uid) ?? this.deleted.get(uid)?.pod;
  }

  /** A pod added or changed; wakes whoever waits for it. */
  upsert(pod: PodInfo): void {
    this.deleted.delete(pod.uid);
    this.live.set(pod.uid, pod);
    this.onChange(this.live.size);
    for (const w of this.waiters) {
      if (w.uid !== pod.uid) continue;
      this.waiters.delete(w);
      w.resolve(pod);
    }
  }

  /** A pod deleted: kept for the retention, then forgotten. */
  delete(uid: string): void {
    const pod = this.live.get(uid);
    if (pod === undefined) return;
    this.live.delete(uid);
    this.deleted.set(uid, { pod, atMs: this.now() });
    this.onChange(this.live.size);
    this.expire();
  }

  /** A full list: pods not in it were deleted meanwhile. */
  replace(pods: readonly PodInfo[]): void {
    const seen = new Set(pods.map((p) => p.uid));
    for (const uid of [...this.live.keys()])
      if (!seen.has(uid)) this.delete(uid);
    for (const p of pods) this.upsert(p);
  }

  /**
   * Resolves with the pod once it is known, or undefined after `ms` (or
   * at `wakeAll`). The timer is the caller's `setTimer`, so tests and the
   * source's clock agree.
   */
  waitFor(
    uid: string,
    ms: number,
    setTimer: (fn: () => void, ms: number) => () => void,
  ): Promise<PodInfo | undefined> {
    const known = this.get(uid);
    if (known !== undefined || ms <= 0) return Promise.resolve(known);
    return new Promise((resolve) => {
      let cancel = (): void => undefined;
      const w: Waiter = {
        uid,
        resolve: (pod) => {
          cancel();
          resolve(pod);
        },
      };
      this.waiters.add(w);
      cancel = setTimer(() => {
        this.waiters.delete(w);
        resolve(undefined);
      }, ms);
    });
  }

  /** Wake every waiter with what is known now (the source gave up or stops). */
  wakeAll(): void {
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w.resolve(this.get(w.uid));
    }
  }

  private expire(): void {
    const limit = this.now() - this.retentionMs;
    for (const [uid, d] of this.deleted) {
      if (d.atMs > limit) break;
      this.deleted.delete(uid);
    }
  }
}
