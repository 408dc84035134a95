import { once, silentLogger, systemClock } from '@lc/core';
import type {
  KubernetesFileMetadata,
  KubernetesPodRef,
} from '../kubernetes-monitor-options.js';
import { ApiClient } from './internal/api-client.js';
import { createApiMetrics } from './internal/api-metrics.js';
import { PodCache } from './internal/pod-cache.js';
import { keyMatcher, podInfo } from './internal/pod-info.js';
import { PodWatch } from './internal/pod-watch.js';
import type { KubernetesPodMetadataOptions } from './kubernetes-pod-metadata-options.js';
import { resolvePodMetadataOptions } from './kubernetes-pod-metadata-options.js';

/**
 * Where the metadata cache is: `starting` (no list yet), `ok` (listed and
 * watching), `degraded` (the API failed; retrying, lookups answer from
 * what the cache holds), `stopped`.
 */
export type KubernetesApiState = 'starting' | 'ok' | 'degraded' | 'stopped';

/** What `status()` reports. */
export interface KubernetesPodMetadataStatus {
  readonly state: KubernetesApiState;
  /** Since when (ms since the epoch). */
  readonly sinceMs: number;
  readonly apiServer: string;
  readonly nodeName: string;
  /** Pods of the node in the cache. */
  readonly pods: number;
  /** The last resource version seen. */
  readonly resourceVersion: string | undefined;
  /** When the cache was last known in sync (ms since the epoch). */
  readonly lastSyncAtMs: number | undefined;
  /** The last failure, while `degraded`. */
  readonly lastError: string | undefined;
  /** Failures since the last success. */
  readonly failures: number;
}

/**
 * Pod metadata for the Kubernetes source from the API server: a list and
 * watch of this node's pods kept in memory, answering the monitor's
 * `metadata` lookup (`lookup`) with the pod's node, owner, allow-listed
 * labels and annotations, and its exclusion. When the API cannot be
 * reached, lookups answer without labels at once (capture never waits on
 * an outage); it is logged (at most once a minute while it lasts),
 * counted (`lc_kubernetes_api_*`) and reported by `status()`.
 */
export interface KubernetesPodMetadata {
  /** Start listing and watching in the background (resolves at once). Idempotent. */
  start(): Promise<void>;
  /** Stop watching; pending lookups answer with what is known. Idempotent. */
  shutdown(): Promise<void>;
  /** The monitor's `metadata` option. */
  readonly lookup: (
    ref: KubernetesPodRef,
  ) => Promise<KubernetesFileMetadata | undefined>;
  status(): KubernetesPodMetadataStatus;
}

/** At most one log line per this long for repeated failures and unknown pods. */
const LOG_EVERY_MS = 60_000;
/** Uids looked up and not found, not waited for again. */
const MAX_MISSED = 4096;

/**
 * Create a {@link KubernetesPodMetadata}. Validates options (throws
 * `LC_ERR_INVALID_OPTION` naming the option); nothing is requested before
 * `start()`.
 */
export function createKubernetesPodMetadata(
  options: KubernetesPodMetadataOptions,
): KubernetesPodMetadata {
  const o = resolvePodMetadataOptions(options);
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const metrics = createApiMetrics(options.registry);
  const cache = new PodCache(
    o.deletedPodRetentionMs,
    () => clock.monotonicNow(),
    (pods) => metrics.pods.set(pods),
  );
  const rules = {
    podLabels: keyMatcher(o.podLabels),
    podAnnotations: keyMatcher(o.podAnnotations),
    excludeAnnotation: o.excludeAnnotation,
    nowMs: () => clock.now(),
  };
  const missed = new Set<string>();
  let state: KubernetesApiState = 'starting';
  let sinceMs = clock.now();
  let startedAt = 0;
  let lastSyncAtMs: number | undefined;
  let lastError: string | undefined;
  let failures = 0;
  let lastFailureLogAt = -Infinity;
  let unknownLoggedAt = -Infinity;
  let unknownSinceLog = 0;

  const setState = (next: KubernetesApiState): void => {
    if (next === state) return;
    state = next;
    sinceMs = clock.now();
    metrics.up.set(next === 'ok' ? 1 : 0);
  };

  const watch = new PodWatch({
    client: new ApiClient({
      apiServer: o.apiServer,
      tokenFile: o.tokenFile,
      caFile: o.caFile,
      requestTimeoutMs: o.requestTimeoutMs,
      maxEventBytes: 16 * 1024 * 1024,
      clock,
    }),
    cache,
    metrics,
    clock,
    nodeName: o.nodeName,
    podInfo: (object) => podInfo(object, rules),
    pageSize: o.pageSize,
    watchTimeoutMs: o.watchTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    minRetryMs: o.minRetryMs,
    maxRetryMs: o.maxRetryMs,
    random: options.random ?? Math.random,
    onSynced() {
      lastSyncAtMs = clock.now();
      if (state === 'ok') return;
      const recovered = state === 'degraded';
      setState('ok');
      lastError = undefined;
      if (recovered)
        logger.info(
          { apiServer: o.apiServer.href, failures, pods: cache.size },
          'kubernetes API: reachable again; pod metadata in sync',
        );
      else
        logger.info(
          { node: o.nodeName, pods: cache.size },
          "kubernetes API: this node's pods listed and watched",
        );
      failures = 0;
    },
    onFailed(error, retryInMs) {
      failures++;
      lastError = error.message;
      const wasUp = state !== 'degraded';
      if (state !== 'stopped') setState('degraded');
      // Nothing will answer soon: waiting lookups go on without labels.
      cache.wakeAll();
      const now = clock.monotonicNow();
      if (!wasUp && now - lastFailureLogAt < LOG_EVERY_MS) return;
      lastFailureLogAt = now;
      logger.warn(
        {
          apiServer: o.apiServer.href,
          err: error.message,
          failures,
          retryInMs,
        },
        wasUp
          ? 'kubernetes API: request failed; pod log files are read without pod metadata until it answers again'
          : 'kubernetes API: still failing; pod log files are read without pod metadata',
      );
    },
  });

  /** How long a lookup of an uncached pod may wait for it, ms. */
  const waitBudget = (uid: string): number => {
    if (missed.has(uid)) return 0;
    if (state === 'ok') return o.podWaitMs;
    if (state === 'starting')
      return Math.max(0, startedAt + o.podWaitMs - clock.monotonicNow());
    return 0;
  };

  const setTimer = (fn: () => void, ms: number): (() => void) => {
    const t = clock.setTimeout(fn, ms);
    t.unref();
    return () => clock.clearTimeout(t);
  };

  const noteUnknown = (ref: KubernetesPodRef): void => {
    unknownSinceLog++;
    const now = clock.monotonicNow();
    if (now - unknownLoggedAt < LOG_EVERY_MS) return;
    logger.warn(
      {
        namespace: ref.namespace,
        pod: ref.pod,
        podUid: ref.podUid,
        node: o.nodeName,
        unknownSinceLastLog: unknownSinceLog - 1,
      },
      'kubernetes API: no such pod on this node; its log file is read without pod metadata',
    );
    unknownLoggedAt = now;
    unknownSinceLog = 0;
  };

  const lookup = async (
    ref: KubernetesPodRef,
  ): Promise<KubernetesFileMetadata | undefined> => {
    let pod = cache.get(ref.podUid);
    if (pod === undefined) {
      const wait = waitBudget(ref.podUid);
      if (wait > 0) pod = await cache.waitFor(ref.podUid, wait, setTimer);
    }
    if (pod === undefined) {
      const synced = state === 'ok';
      metrics.lookups.inc({ result: synced ? 'unknown' : 'unavailable' });
      if (missed.size >= MAX_MISSED) missed.clear();
      missed.add(ref.podUid);
      if (synced) noteUnknown(ref);
      return undefined;
    }
    metrics.lookups.inc({ result: pod.excluded ? 'excluded' : 'found' });
    if (!pod.excluded) return { labels: pod.labels };
    return {
      labels: pod.labels,
      exclude: true,
      excludeReason: `annotation ${o.excludeAnnotation ?? ''}: "true"`,
    };
  };

  return {
    start: once(async () => {
      startedAt = clock.monotonicNow();
      metrics.up.set(0);
      watch.start();
    }),
    shutdown: once(async () => {
      setState('stopped');
      await watch.stop();
      cache.wakeAll();
    }),
    lookup,
    status: () => ({
      state,
      sinceMs,
      apiServer: o.apiServer.href,
      nodeName: o.nodeName,
      pods: cache.size,
      resourceVersion: watch.version,
      lastSyncAtMs,
      lastError,
      failures,
    }),
  };
}
