import type {
  DeadLetterFilter,
  DeadLetterStore,
  Logger,
  LogRecord,
  PendingBatchInfo,
  Position,
  PositionStore,
} from '@lc/core';
import type { DispatcherStats, RouteStats, SinkStats } from '@lc/dispatcher';
import type { ContainerStatus, FileStatus } from '@lc/monitors';
import type { BatchPersistenceStats } from '@lc/persistence';
import type { PositionManagerStats } from '@lc/positions';
import type { ProcessorStats } from '@lc/processing';
import type { Registry } from 'prom-client';
import type { AgentConfig } from '../config/schema.js';
import type { BufferStatus } from './buffer-status.js';
import type { AgentEnv, KubernetesStatus } from './kubernetes-metadata.js';
import type { Readiness } from './readiness.js';

/** Options for {@link createAgent}. */
export interface AgentOptions {
  /** Validated configuration. */
  config: AgentConfig;
  /** Agent logger (pino). @default silentLogger */
  logger?: Logger & { level?: string };
  /**
   * Registry served on /metrics; Node's default metrics are added when the
   * config asks (`metrics.default_metrics`) and it has none yet.
   * @default a new registry
   */
  registry?: Registry;
  /**
   * An open store to keep positions in instead of the one `positions`
   * describes (`lc-agent run` opens the JSON store at process start to
   * record file watches before the pipeline's code loads). Closed by
   * `shutdown()`.
   */
  positionStore?: PositionStore;
  /**
   * The environment the Kubernetes source looks at to find the cluster
   * (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`, `NODE_NAME`).
   * @default process.env
   */
  env?: AgentEnv;
}

/** Lifecycle state of the agent. */
export type AgentState =
  'new' | 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped';

/** Outcome of {@link Agent.reload}. */
export interface ReloadResult {
  /** Sections applied live (sources, sinks, dispatcher, processing, log level). */
  readonly applied: readonly string[];
  /** Changed sections that only take effect after a restart. */
  readonly requiresRestart: readonly string[];
}

/** Whether the position store takes saves (see `readiness()`). */
export interface PositionsStatus {
  /** `ok`, or `failing` while saves fail (retried; reading goes on). */
  readonly state: 'ok' | 'failing';
  /** Since when saves fail, ms since the epoch. */
  readonly failingSinceMs?: number;
  /** The last save error. */
  readonly lastError?: string;
}

/** Counters and component stats for /stats. */
export interface AgentStats {
  readonly state: AgentState;
  readonly uptimeMs: number;
  readonly reloads: number;
  readonly dispatcher: DispatcherStats | undefined;
  readonly positions: PositionManagerStats;
  readonly processing: ProcessorStats;
  readonly persistence: BatchPersistenceStats | undefined;
  readonly sinks: readonly string[];
}

/**
 * The assembled pipeline: monitors → processing → dispatcher (→ WAL/DLQ)
 * → sinks, with positions committed from the dispatcher's ack watermark.
 */
export interface Agent {
  /** Registry with every component's metrics. */
  readonly registry: Registry;
  /** The configuration currently applied. */
  readonly config: AgentConfig;
  /** Current lifecycle state. */
  readonly state: AgentState;
  /** Start every component (positions first, sources last). Idempotent. */
  start(): Promise<void>;
  /**
   * Stop sources, drain the dispatcher within `dispatcher.shutdown_timeout`,
   * flush WAL and positions, close sinks. Idempotent.
   */
  shutdown(): Promise<void>;
  /**
   * Apply a new validated config. Sources, sinks, dispatcher and
   * processing are swapped live: sources stop, the old dispatcher drains
   * (committing positions for everything delivered), then the new pipeline
   * resumes from the committed positions, so nothing is lost or duplicated.
   * If building the new pipeline fails, the old config keeps running and the
   * error is thrown.
   */
  reload(next: AgentConfig): Promise<ReloadResult>;
  /**
   * Hand records (HTTP ingest) to processing; all of them or none. Throws
   * `LC_ERR_SERVICE_UNAVAILABLE` unless the agent is running (starting,
   * reloading, stopping), and `LC_ERR_QUEUE_FULL` while the intake is full
   * (sinks down or slow past the disk buffer): retry later.
   */
  ingest(records: readonly LogRecord[]): void;
  /** Whether the agent is ready, and each component (see {@link Readiness}). */
  readiness(): Readiness;
  /** Every sink, route, tracked file and container, and whether positions can be saved. */
  status(): {
    /**
     * Per sink: state, circuit, fallback, in flight, queued, its backlog
     * (unsettled batches and records, age of the oldest), delivered,
     * dead-lettered, last error.
     */
    sinks: readonly SinkStats[];
    /** Each route and whether its records reach a sink. */
    routes: readonly RouteStats[];
    files: FileStatus[];
    containers: ContainerStatus[];
    /** The Kubernetes source and its API metadata. */
    kubernetes: KubernetesStatus;
    positions: PositionsStatus;
    buffer: BufferStatus;
  };
  /** Counters. */
  stats(): AgentStats;
  /** Committed positions. */
  positions(): Position[];
  /** Pending WAL batches (empty without persistence). */
  batches(): readonly PendingBatchInfo[];
  /** The dead-letter store, if enabled. */
  readonly deadLetters: DeadLetterStore | undefined;
  /** Replay dead letters into the live sink(s) they failed on. */
  replayDeadLetters(options?: {
    sink?: string;
    filter?: DeadLetterFilter;
    onProgress?: (p: { done: number; total: number; failed: number }) => void;
  }): Promise<{ replayed: number; failed: number }>;
}
