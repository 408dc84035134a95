import { Counter, Registry } from 'prom-client';
import type { MetricsRegistry } from '@lc/core';
import { getOrCreateMetric } from '@lc/core';

/** The Kubernetes source's own metrics (file metrics are the file monitor's). */
export interface KubernetesMetrics {
  /** Lines that are not CRI lines, passed through as they are. */
  readonly malformedLines: Counter;
  /** Records joined from `P` fragments and their `F`. */
  readonly joinedLines: Counter;
  /** Fragments emitted without their `F` (the file ended, e.g. the runtime died mid-line). */
  readonly unterminatedLines: Counter;
  /** Metadata lookups that failed or timed out (records go on without those labels). */
  readonly metadataErrors: Counter;
  /** Pod log files not captured because their pod opted out (metadata `exclude`). */
  readonly excludedFiles: Counter;
  /** Lines of excluded files read and dropped. */
  readonly excludedLines: Counter;
}

/** Create (or reuse, when already on `registry`) the Kubernetes source metrics. */
export function createKubernetesMetrics(
  registry: MetricsRegistry = new Registry(),
): KubernetesMetrics {
  const registers = [registry];
  const counter = (name: string, help: string): Counter =>
    getOrCreateMetric(
      registry,
      name,
      () => new Counter({ name, help, registers }),
    );
  return {
    malformedLines: counter(
      'lc_kubernetes_malformed_lines_total',
      'Lines of pod log files that are not CRI lines, passed through unparsed.',
    ),
    joinedLines: counter(
      'lc_kubernetes_joined_lines_total',
      'Records joined from CRI partial (P) fragments and their final (F) line.',
    ),
    unterminatedLines: counter(
      'lc_kubernetes_unterminated_lines_total',
      'CRI partial fragments emitted without their final line because the file ended.',
    ),
    metadataErrors: counter(
      'lc_kubernetes_metadata_errors_total',
      'Pod metadata lookups that failed or timed out; the records went on without those labels.',
    ),
    excludedFiles: counter(
      'lc_kubernetes_excluded_files_total',
      'Pod log files not captured because their pod opted out (exclude annotation).',
    ),
    excludedLines: counter(
      'lc_kubernetes_excluded_lines_total',
      'Lines of pod log files excluded by their pod, read and dropped by that choice.',
    ),
  };
}
