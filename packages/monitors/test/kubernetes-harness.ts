import type { Logger, LogRecord, PositionStore } from '@lc/core';
import { createCollectingIntake } from '@lc/core/testing';
import type { CollectingIntake } from '@lc/core/testing';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import type { PositionManager } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { createKubernetesMonitor } from '../src/index.js';
import type {
  KubernetesMonitor,
  KubernetesMonitorOptions,
} from '../src/index.js';
import { kubeletNode } from './kubelet-node.js';
import type { KubeletNode } from './kubelet-node.js';

/** A Kubernetes monitor over a temp kubelet layout, with a collecting intake. */
export interface KubernetesHarness {
  readonly dir: TempDir;
  readonly node: KubeletNode;
  readonly positions: PositionManager;
  readonly store: PositionStore;
  readonly intake: CollectingIntake;
  readonly monitor: KubernetesMonitor;
  readonly registry: Registry;
  /** Log lines the monitor wrote (level, bindings, message). */
  readonly logs: Array<{ level: string; obj: unknown; msg: string }>;
  lines(): string[];
  /** Commit these records' cursors (as a dispatcher would once they are delivered). */
  commit(records: readonly LogRecord[]): void;
  /** Stop, then start a new monitor on the same positions (same store, new manager). */
  restart(
    overrides?: Partial<KubernetesMonitorOptions>,
    options?: { autoCommit?: boolean },
  ): Promise<KubernetesHarness>;
  close(): Promise<void>;
}

/** A logger that keeps what it is given. */
export function collectingLogger(
  logs: Array<{ level: string; obj: unknown; msg: string }>,
): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      if (typeof obj === 'string') logs.push({ level, obj: {}, msg: obj });
      else logs.push({ level, obj, msg: msg ?? '' });
    };
  const logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  };
  return logger as unknown as Logger;
}

/**
 * Start nothing yet: the monitor is created with fast test timings, the
 * intake commits every record as it arrives unless `autoCommit` is false.
 */
export async function kubernetesHarness(
  overrides: Partial<KubernetesMonitorOptions> = {},
  options: { autoCommit?: boolean; highWaterMark?: number } = {},
  existing?: { dir: TempDir; store: PositionStore },
): Promise<KubernetesHarness> {
  const dir = existing?.dir ?? (await createTempDir('lc-k8s-'));
  const node = kubeletNode(dir.path);
  const store = existing?.store ?? createMemoryPositionStore();
  const positions = createPositionManager({
    store,
    closeStoreOnShutdown: false,
  });
  await positions.start();
  const intake = createCollectingIntake({
    ...(options.autoCommit === false ? {} : { autoCommit: positions }),
    ...(options.highWaterMark === undefined
      ? {}
      : { highWaterMark: options.highWaterMark }),
  });
  const registry = new Registry();
  const logs: Array<{ level: string; obj: unknown; msg: string }> = [];
  const monitor = createKubernetesMonitor({
    intake,
    positions,
    root: node.root,
    containersDir: node.containersDir,
    pollIntervalMs: 20,
    rescanIntervalMs: 200,
    rotatedFileGraceMs: 300,
    deletedFileGraceMs: 300,
    partialLineFlushMs: 100,
    instance: 'node-1',
    registry,
    logger: collectingLogger(logs),
    ...overrides,
  });
  const h: KubernetesHarness = {
    dir,
    node,
    positions,
    store,
    intake,
    monitor,
    registry,
    logs,
    lines: () => intake.records.map((r) => r.line),
    commit(records) {
      for (const r of records)
        if (r.cursor !== undefined) positions.commit(r.source, r.cursor);
    },
    async restart(more = {}, opts = {}) {
      await monitor.shutdown();
      await positions.flush();
      await positions.shutdown();
      return kubernetesHarness({ ...overrides, ...more }, opts, {
        dir,
        store,
      });
    },
    async close() {
      await monitor.shutdown();
      await positions.shutdown();
      await dir.cleanup();
    },
  };
  return h;
}

/** The value of a counter (no labels) on `registry`. */
export async function counterValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const want = Object.entries(labels);
  return values
    .filter((v) =>
      want.every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
    )
    .reduce((n, v) => n + v.value, 0);
}
