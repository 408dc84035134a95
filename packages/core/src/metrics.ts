import type { Metric, Registry } from 'prom-client';

/**
 * The prom-client registry lc components register their metrics on. When a
 * component is given none, it registers on a private registry nobody
 * scrapes, so instrumentation code never branches and nothing leaks into
 * the global default registry.
 */
export type MetricsRegistry = Registry;

/**
 * Return the metric already registered under `name`, or register the one
 * `create` builds. Lets several instances of a component (two file sinks)
 * share one registry without "already registered" errors; distinguish them
 * with labels.
 */
export function getOrCreateMetric<T extends Metric>(
  registry: MetricsRegistry,
  name: string,
  create: () => T,
): T {
  const existing = registry.getSingleMetric(name);
  return (existing as T | undefined) ?? create();
}
