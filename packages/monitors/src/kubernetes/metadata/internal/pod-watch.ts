import type { Clock } from '@lc/core';
import type { ApiClient } from './api-client.js';
import { ApiError } from './api-client.js';
import type { ApiMetrics } from './api-metrics.js';
import type { PodCache } from './pod-cache.js';
import type { PodInfo } from './pod-info.js';

/** What {@link PodWatch} needs. */
export interface PodWatchContext {
  readonly client: ApiClient;
  readonly cache: PodCache;
  readonly metrics: ApiMetrics;
  readonly clock: Clock;
  readonly nodeName: string;
  /** Turns a `Pod` object into what the cache keeps (undefined: skip it). */
  readonly podInfo: (object: unknown) => PodInfo | undefined;
  /** Items per list page (`limit`). */
  readonly pageSize: number;
  /** The server-side watch timeout, ms (`timeoutSeconds`; jittered up to +20 %). */
  readonly watchTimeoutMs: number;
  /** Longest silence on a watch beyond its timeout, ms. */
  readonly requestTimeoutMs: number;
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
  readonly random: () => number;
  /** The cache is in sync (a list or a watch answered). */
  readonly onSynced: () => void;
  /** A request failed; the loop retries after `retryInMs`. */
  readonly onFailed: (error: Error, retryInMs: number) => void;
}

const PODS = '/api/v1/pods';

/** An `ERROR` watch event's `Status` code 410: the resource version is gone. */
class Expired extends Error {}

/**
 * The list+watch loop of this node's pods
 * (`fieldSelector=spec.nodeName=<node>`): a paginated list, then a watch
 * from its `resourceVersion` with bookmarks, resumed from the last version
 * seen when it ends or fails, and a new list when the version is gone
 * (410, as an HTTP status or an `ERROR` event). Failures back off
 * exponentially with jitter; the cache keeps serving what it has.
 */
export class PodWatch {
  private readonly c: PodWatchContext;
  private readonly abort = new AbortController();
  private resourceVersion: string | undefined;
  private failures = 0;
  private running: Promise<void> | undefined;
  private relistReason: 'initial' | 'expired' | 'error' = 'initial';

  constructor(ctx: PodWatchContext) {
    this.c = ctx;
  }

  /** The last resource version seen (a list's, an event's or a bookmark's). */
  get version(): string | undefined {
    return this.resourceVersion;
  }

  /** Start the loop in the background. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stop the loop and wait for it. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        const began = this.c.clock.monotonicNow();
        await this.watch();
        // Ended by the server (its timeout): resume from the last version,
        // but never in a tight loop.
        if (this.c.clock.monotonicNow() - began < this.c.minRetryMs)
          await this.sleep(this.c.minRetryMs);
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof Expired || (error as ApiError).status === 410) {
          // The version is gone: list again, at once the first time.
          this.resourceVersion = undefined;
          this.relistReason = 'expired';
          if (this.failures++ === 0) continue;
        } else this.failures++;
        const delay = this.backoff();
        this.c.onFailed(error as Error, delay);
        await this.sleep(delay);
      }
    }
  }

  private backoff(): number {
    const exp = Math.min(
      this.c.maxRetryMs,
      this.c.minRetryMs * 2 ** Math.min(20, this.failures - 1),
    );
    return Math.round(exp / 2 + (exp / 2) * this.c.random());
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.c.clock.clearTimeout(t);
        resolve();
      };
      const t = this.c.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      t.unref();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private count(verb: 'list' | 'watch', error?: unknown): void {
    const status =
      error === undefined ? 200 : (error as Partial<ApiError>).status;
    this.c.metrics.requests.inc({
      verb,
      code: status === undefined ? 'error' : String(status),
    });
  }

  private succeeded(): void {
    this.failures = 0;
    this.c.onSynced();
  }

  /** List every page; the cache is replaced once the last page is in. */
  private async list(): Promise<void> {
    this.c.metrics.relists.inc({ reason: this.relistReason });
    this.relistReason = 'error';
    const pods: PodInfo[] = [];
    let cont: string | undefined;
    let version: string | undefined;
    do {
      let page: unknown;
      try {
        page = await this.c.client.getJson(
          PODS,
          {
            fieldSelector: `spec.nodeName=${this.c.nodeName}`,
            limit: String(this.c.pageSize),
            ...(cont === undefined ? {} : { continue: cont }),
          },
          this.abort.signal,
        );
        this.count('list');
      } catch (error) {
        this.count('list', error);
        throw error;
      }
      const p = page as {
        kind?: unknown;
        metadata?: { resourceVersion?: unknown; continue?: unknown };
        items?: unknown;
      };
      if (
        !Array.isArray(p.items) ||
        typeof p.metadata?.resourceVersion !== 'string'
      )
        throw new ApiError(
          `GET ${PODS}: not a PodList (kind ${String(p.kind)})`,
        );
      for (const item of p.items as unknown[]) {
        const info = this.c.podInfo(item);
        if (info !== undefined) pods.push(info);
      }
      version = p.metadata.resourceVersion;
      cont =
        typeof p.metadata.continue === 'string' && p.metadata.continue !== ''
          ? p.metadata.continue
          : undefined;
    } while (cont !== undefined && !this.stopped);
    if (this.stopped) return;
    this.c.cache.replace(pods);
    this.resourceVersion = version;
    this.succeeded();
  }

  /** Watch from the last version until the server ends the stream. */
  private async watch(): Promise<void> {
    const jitter = 1 + 0.2 * this.c.random();
    const timeoutSeconds = Math.max(
      1,
      Math.round((this.c.watchTimeoutMs / 1000) * jitter),
    );
    try {
      await this.c.client.watch(
        PODS,
        {
          watch: 'true',
          fieldSelector: `spec.nodeName=${this.c.nodeName}`,
          resourceVersion: this.resourceVersion ?? '',
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(timeoutSeconds),
        },
        this.abort.signal,
        timeoutSeconds * 1000 + this.c.requestTimeoutMs,
        (line) => this.event(line),
        () => this.succeeded(),
      );
      this.count('watch');
    } catch (error) {
      this.count('watch', error instanceof Expired ? undefined : error);
      throw error;
    }
  }

  private event(line: string): void {
    const e = JSON.parse(line) as { type?: unknown; object?: unknown };
    const type = typeof e.type === 'string' ? e.type : 'UNKNOWN';
    this.c.metrics.watchEvents.inc({ type });
    const object = e.object as
      | {
          metadata?: { resourceVersion?: unknown; uid?: unknown };
          code?: unknown;
          message?: unknown;
        }
      | undefined;
    if (type === 'ERROR') {
      if (object?.code === 410)
        throw new Expired(String(object.message ?? 'Gone'));
      throw new ApiError(
        `watch ${PODS}: ERROR event (${String(object?.code)}: ${String(object?.message)})`,
        typeof object?.code === 'number' ? object.code : undefined,
      );
    }
    const version = object?.metadata?.resourceVersion;
    if (type === 'ADDED' || type === 'MODIFIED') {
      const info = this.c.podInfo(object);
      if (info !== undefined) this.c.cache.upsert(info);
    } else if (type === 'DELETED') {
      const uid = object?.metadata?.uid;
      if (typeof uid === 'string') this.c.cache.delete(uid);
    }
    if (typeof version === 'string' && version !== '')
      this.resourceVersion = version;
  }
}
