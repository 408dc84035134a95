import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricsRegistry } from '@lc/core';
import { getOrCreateMetric } from '@lc/core';

/** The pod metadata source's metrics (`lc_kubernetes_api_*`). */
export interface ApiMetrics {
  /** Requests by verb (`list`, `watch`) and answer (`200`, `401`, `410`…, `error`: none). */
  readonly requests: Counter<'verb' | 'code'>;
  /** Watch events by type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). */
  readonly watchEvents: Counter<'type'>;
  /** Full lists by reason (`initial`, `expired`: 410 Gone, `error`: no watch to resume). */
  readonly relists: Counter<'reason'>;
  /** 1 while the cache is in sync (listed, watching, last request answered), else 0. */
  readonly up: Gauge;
  /** Pods of this node in the cache. */
  readonly pods: Gauge;
  /** Lookups by result (`found`, `excluded`, `unknown`: not on this node's list, `unavailable`: API down). */
  readonly lookups: Counter<'result'>;
}

/** Create (or reuse, when already on `registry`) the API metrics. */
export function createApiMetrics(
  registry: MetricsRegistry = new Registry(),
): ApiMetrics {
  const registers = [registry];
  const counter = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
  ): Counter<L> =>
    getOrCreateMetric(
      registry,
      name,
      () => new Counter({ name, help, labelNames, registers }),
    );
  const gauge = (name: string, help: string): Gauge =>
    getOrCreateMetric(
      registry,
      name,
      () => new Gauge({ name, help, registers }),
    );
  return {
    requests: counter(
      'lc_kubernetes_api_requests_total',
      'Kubernetes API requests of the pod metadata watch, by verb and HTTP status (error: no answer).',
      ['verb', 'code'],
    ),
    watchEvents: counter(
      'lc_kubernetes_api_watch_events_total',
      'Pod watch events received, by type.',
      ['type'],
    ),
    relists: counter(
      'lc_kubernetes_api_relists_total',
      "Full lists of the node's pods, by reason (initial, expired: 410 Gone, error).",
      ['reason'],
    ),
    up: gauge(
      'lc_kubernetes_api_up',
      '1 while the pod metadata cache is in sync with the Kubernetes API, else 0 (records go on without API labels).',
    ),
    pods: gauge(
      'lc_kubernetes_api_pods',
      'Pods of this node in the metadata cache.',
    ),
    lookups: counter(
      'lc_kubernetes_api_lookups_total',
      'Pod metadata lookups of pod log files, by result (found, excluded, unknown, unavailable).',
      ['result'],
    ),
  };
}
