import { resolve } from 'node:path';
import type {
  DeadLetterFilter,
  DeadLetterStore,
  Intake,
  Logger,
  LogRecord,
  PendingBatchInfo,
  Position,
  PositionStore,
  Sink,
} from '@lc/core';
import { LcError, silentLogger } from '@lc/core';
import type { Dispatcher, DispatcherStats } from '@lc/dispatcher';
import { createDispatcher } from '@lc/dispatcher';
import type {
  ContainerMonitor,
  ContainerStatus,
  FileMonitor,
  FileStatus,
} from '@lc/monitors';
import {
  createContainerMonitor,
  createFileMonitor,
  recordFileWatches,
} from '@lc/monitors';
import type { BatchPersistence, BatchPersistenceStats } from '@lc/persistence';
import { createBatchPersistence, createDeadLetterStore } from '@lc/persistence';
import type { PositionManager, PositionManagerStats } from '@lc/positions';
import {
  createJsonFilePositionStore,
  createMemoryPositionStore,
  createPositionManager,
  createRedisPositionStore,
} from '@lc/positions';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { positionsFilePath } from '../config/defaults.js';
import type { AgentConfig } from '../config/schema.js';
import type {
  Processor,
  ProcessorStats,
} from '../processing/create-processor.js';
import { createProcessor } from '../processing/create-processor.js';
import { createProcessingIntake } from '../processing/processing-intake.js';
import { buildSinks } from './build-sinks.js';
import { diffConfig } from './diff-config.js';

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
  /** Hand records (HTTP ingest) to processing; false = over budget, retry later. */
  ingest(records: readonly LogRecord[]): boolean;
  /** Readiness of each component. */
  readiness(): { ready: boolean; components: Record<string, string> };
  /** Every tracked file and container, and whether positions can be saved. */
  status(): {
    files: FileStatus[];
    containers: ContainerStatus[];
    positions: PositionsStatus;
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

interface Generation {
  readonly config: AgentConfig;
  readonly sinks: Sink[];
  readonly dispatcher: Dispatcher;
  readonly intake: Intake;
  files: FileMonitor[];
  docker: ContainerMonitor | undefined;
}

/** Paths the agent writes to, which file sources must never read. */
function selfPaths(config: AgentConfig): string[] {
  if (!config.app.self_capture_guard) return [];
  return [
    resolve(config.app.data_dir),
    ...config.sinks.file.map((s) => resolve(s.directory)),
  ];
}

function createPositionStore(
  config: AgentConfig,
  logger: Logger,
  registry: Registry,
): PositionStore {
  const p = config.positions;
  switch (p.store) {
    case 'memory':
      return createMemoryPositionStore();
    case 'redis':
      return createRedisPositionStore({
        url: p.redis_url,
        namespace: p.namespace,
        logger,
        registry,
      });
    case 'file':
      return createJsonFilePositionStore({
        path: positionsFilePath(config.app.data_dir, p.path),
        onCorruption: p.on_corruption,
        backupCount: p.backup_count,
        fsync: p.fsync,
        logger,
        registry,
      });
  }
}

/** Assemble an agent from a validated config. Nothing runs until `start()`. */
export function createAgent(options: AgentOptions): Agent {
  const logger = options.logger ?? silentLogger;
  const registry = options.registry ?? new Registry();
  if (
    options.config.metrics.default_metrics &&
    registry.getSingleMetric('process_cpu_user_seconds_total') === undefined
  ) {
    collectDefaultMetrics({ register: registry });
  }
  const reloadCounter = new Counter({
    name: 'lc_agent_reloads_total',
    help: 'Configuration reloads by result (applied, rejected).',
    labelNames: ['result'],
    registers: [registry],
  });
  let config = options.config;
  let state: AgentState = 'new';
  const startedAtMs = Date.now();
  let reloads = 0;
  const inst = {
    logger,
    registry,
    onError: (error: unknown) =>
      logger.error({ err: error }, 'background error'),
  };
  const positions: PositionManager = createPositionManager({
    ...inst,
    store:
      options.positionStore ?? createPositionStore(config, logger, registry),
    flushIntervalMs: config.positions.flush_interval,
  });
  let deadLetters: DeadLetterStore | undefined;
  let batchStore: BatchPersistence | undefined;
  let processor: Processor = createProcessor({
    ...inst,
    pipelines: config.processing.pipelines,
  });
  let gen: Generation | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const positionsStatus = (): PositionsStatus => {
    const st = positions.stats();
    return st.storeFailing
      ? {
          state: 'failing',
          failingSinceMs: st.storeFailingSinceMs,
          ...(st.lastStoreError === undefined
            ? {}
            : { lastError: st.lastStoreError }),
        }
      : { state: 'ok' };
  };

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  const buildPipeline = (cfg: AgentConfig): Generation => {
    const built = buildSinks(cfg, inst);
    const d = cfg.dispatcher;
    const dispatcher = createDispatcher({
      ...inst,
      sinks: built.sinks,
      routes: built.routes,
      defaultSinks: built.defaultSinks,
      committer: positions,
      ...(batchStore === undefined ? {} : { batchStore }),
      ...(deadLetters === undefined ? {} : { deadLetters }),
      ...(d.max_queue_records === undefined
        ? {}
        : { maxQueueRecords: d.max_queue_records }),
      ...(d.max_queue_bytes === undefined
        ? {}
        : { maxQueueBytes: d.max_queue_bytes }),
      dropPolicy: d.drop_policy,
      batchMaxRecords: d.batch_max_records,
      batchMaxBytes: d.batch_max_bytes,
      batchTimeoutMs: d.batch_timeout,
      workers: d.workers,
      sendTimeoutMs: d.send_timeout,
      shutdownTimeoutMs: d.shutdown_timeout,
      ...(d.spill.enabled
        ? {
            spill: {
              directory:
                d.spill.directory ?? resolve(cfg.app.data_dir, 'spill'),
              maxBytes: d.spill.max_bytes,
              maxSegmentBytes: d.spill.max_segment_bytes,
            },
          }
        : {}),
      ...(d.max_retries === undefined
        ? {}
        : { retry: { maxAttempts: d.max_retries + 1 } }),
    });
    const intake = createProcessingIntake(dispatcher, {
      process: (r) => processor.process(r),
      processMany: (rs) => processor.processMany(rs),
      pipelineFor: (r) => processor.pipelineFor(r),
      stats: () => processor.stats(),
    });
    return {
      config: cfg,
      sinks: built.sinks,
      dispatcher,
      intake,
      files: [],
      docker: undefined,
    };
  };

  const buildSources = (g: Generation, cfg: AgentConfig): void => {
    const guard = selfPaths(cfg);
    g.files = cfg.sources.files.map((f) =>
      createFileMonitor({
        ...inst,
        intake: g.intake,
        positions,
        // Relative globs are relative to the agent's working directory.
        include: f.include.map((g) => resolve(g)),
        exclude: f.exclude.map((g) =>
          g.startsWith('./') || g.startsWith('../') ? resolve(g) : g,
        ),
        labels: f.labels,
        startPosition: f.start_at,
        newFileStartPosition: f.new_file_start_at,
        recentBytes: f.recent_bytes,
        rescanIntervalMs: f.rescan_interval,
        pollIntervalMs: f.poll_interval,
        watch: f.watch,
        watchDelayMs: f.watch_delay,
        maxDepth: f.max_depth,
        includeHidden: f.include_hidden,
        followSymlinks: f.follow_symlinks,
        maxFiles: f.max_files,
        maxOpenFiles: f.max_open_files,
        idleCloseMs: f.idle_close,
        maxLineBytes: f.max_line_bytes,
        longLinePolicy: f.long_line_policy,
        encoding: f.encoding,
        partialLineFlushMs: f.partial_line_flush,
        rotatedFileGraceMs: f.rotated_file_grace,
        selfPaths: guard,
      }),
    );
    const docker = cfg.sources.docker;
    g.docker = docker.enabled
      ? createContainerMonitor({
          ...inst,
          intake: g.intake,
          positions,
          socketPath: docker.socket,
          filters: {
            includeNames: docker.include_names,
            excludeNames: docker.exclude_names,
            includeImages: docker.include_images,
            includeLabels: docker.include_labels,
            excludeLabels: docker.exclude_labels,
          },
          labels: docker.labels,
          maxConcurrentStreams: docker.max_concurrent_streams,
        })
      : undefined;
  };

  const startSources = async (g: Generation): Promise<void> => {
    for (const m of g.files) await m.start();
    await g.docker?.start();
  };

  const stopSources = async (g: Generation): Promise<void> => {
    await Promise.all([
      ...g.files.map((m) => m.shutdown()),
      g.docker?.shutdown(),
    ]);
  };

  const stopPipeline = async (g: Generation): Promise<void> => {
    await stopSources(g);
    await g.dispatcher.shutdown();
    await positions.flush();
  };

  const agent: Agent = {
    registry,
    get config() {
      return config;
    },
    get state() {
      return state;
    },
    get deadLetters() {
      return deadLetters;
    },
    start: () =>
      serial(async () => {
        if (state !== 'new') return;
        state = 'starting';
        await positions.start();
        // Each file group's "watched since" is the process start: a crash
        // loop's next run then knows what rotated away while it was down.
        const since = Math.floor(performance.timeOrigin);
        let recorded = false;
        for (const f of config.sources.files)
          recorded =
            recordFileWatches(
              positions,
              f.include.map((g) => resolve(g)),
              since,
            ) || recorded;
        if (recorded) await positions.whenSaved();
        if (config.dlq.enabled) {
          deadLetters = await createDeadLetterStore({
            ...inst,
            directory:
              config.dlq.directory ?? resolve(config.app.data_dir, 'dlq'),
            maxSegmentBytes: config.buffer.max_segment_bytes,
          });
        }
        if (config.persistence.enabled) {
          const p = config.persistence;
          batchStore = await createBatchPersistence({
            ...inst,
            directory: p.directory ?? resolve(config.app.data_dir, 'wal'),
            fsync: p.fsync,
            maxPendingBytes: p.max_pending_bytes,
            maxSegmentBytes: config.buffer.max_segment_bytes,
            ...(p.batch_ttl === undefined ? {} : { batchTtlMs: p.batch_ttl }),
            ...(deadLetters === undefined ? {} : { deadLetters }),
          });
        }
        const g = buildPipeline(config);
        buildSources(g, config);
        gen = g;
        await g.dispatcher.start();
        await startSources(g);
        state = 'running';
        logger.info(
          {
            sinks: g.sinks.map((s) => s.name),
            fileGroups: g.files.length,
            docker: g.docker !== undefined,
          },
          'agent started',
        );
      }),
    shutdown: () =>
      serial(async () => {
        if (state === 'stopped' || state === 'new') {
          state = 'stopped';
          return;
        }
        state = 'stopping';
        if (gen !== undefined) await stopPipeline(gen);
        await batchStore?.shutdown();
        await deadLetters?.close();
        await positions.shutdown();
        state = 'stopped';
        logger.info('agent stopped');
      }),
    reload: (next) =>
      serial(async () => {
        if (state !== 'running' || gen === undefined) {
          throw new LcError({
            code: 'LC_ERR_SHUT_DOWN',
            message: `cannot reload while ${state}`,
          });
        }
        const diff = diffConfig(config, next);
        const applied: string[] = [];
        // Build everything new before touching the running pipeline, so a
        // failure leaves the old config running.
        const nextProcessor = diff.processing
          ? createProcessor({ ...inst, pipelines: next.processing.pipelines })
          : processor;
        const pipelineChanged = diff.sinks || diff.dispatcher;
        let nextGen: Generation | undefined;
        try {
          if (pipelineChanged) nextGen = buildPipeline(next);
        } catch (error) {
          reloadCounter.labels('rejected').inc();
          throw error;
        }
        state = 'reloading';
        try {
          if (nextGen !== undefined) {
            await stopPipeline(gen);
            processor = nextProcessor;
            buildSources(nextGen, next);
            gen = nextGen;
            await nextGen.dispatcher.start();
            await startSources(nextGen);
            applied.push(
              ...(diff.sinks ? ['sinks'] : []),
              ...(diff.dispatcher ? ['dispatcher'] : []),
              'sources',
            );
          } else if (diff.sources) {
            await stopSources(gen);
            processor = nextProcessor;
            buildSources(gen, next);
            await startSources(gen);
            applied.push('sources');
          } else {
            processor = nextProcessor;
          }
          if (diff.processing) applied.push('processing');
          const levelled = options.logger;
          if (diff.logLevel && levelled?.level !== undefined) {
            levelled.level = next.app.log_level;
            applied.push('app.log_level');
          }
        } finally {
          state = 'running';
        }
        // Sections that need a restart keep their running values.
        config = {
          ...next,
          app: { ...config.app, log_level: next.app.log_level },
          api: config.api,
          metrics: config.metrics,
          positions: config.positions,
          persistence: config.persistence,
          buffer: config.buffer,
          dlq: config.dlq,
        };
        reloads++;
        reloadCounter.labels('applied').inc();
        logger.info(
          { applied, requiresRestart: diff.requiresRestart },
          'configuration reloaded',
        );
        return { applied, requiresRestart: diff.requiresRestart };
      }),
    ingest(records) {
      if (gen === undefined || (state !== 'running' && state !== 'reloading')) {
        throw new LcError({
          code: 'LC_ERR_SERVICE_UNAVAILABLE',
          message: `agent is ${state}`,
        });
      }
      return gen.intake.dispatchMany(records);
    },
    readiness() {
      const saves = positionsStatus();
      const components: Record<string, string> = {
        agent: state,
        positions:
          state !== 'running'
            ? state
            : saves.state === 'ok'
              ? 'up'
              : `failing: ${saves.lastError ?? 'save failed'}`,
        dispatcher:
          gen === undefined
            ? 'down'
            : gen.dispatcher.stats().writable
              ? 'up'
              : 'backpressure',
        deadLetters: deadLetters === undefined ? 'disabled' : 'up',
        persistence: batchStore === undefined ? 'disabled' : 'up',
        fileSources: String(gen?.files.length ?? 0),
        docker: gen?.docker === undefined ? 'disabled' : 'up',
      };
      // Positions that cannot be saved are a durability failure: delivery
      // goes on, but a crash would replay (or, for a new file rotated
      // away meanwhile, miss) what was read since. Not ready until fixed.
      return { ready: state === 'running' && saves.state === 'ok', components };
    },
    status: () => ({
      files: gen?.files.flatMap((m) => m.status()) ?? [],
      containers: gen?.docker?.status() ?? [],
      positions: positionsStatus(),
    }),
    stats: () => ({
      state,
      uptimeMs: Date.now() - startedAtMs,
      reloads,
      dispatcher: gen?.dispatcher.stats(),
      positions: positions.stats(),
      processing: processor.stats(),
      persistence: batchStore?.stats(),
      sinks: gen?.sinks.map((s) => s.name) ?? [],
    }),
    positions: () => positions.list(),
    batches: () => batchStore?.pending() ?? [],
    async replayDeadLetters(opts = {}) {
      const store = deadLetters;
      if (store === undefined || gen === undefined) {
        throw new LcError({
          code: 'LC_ERR_DLQ',
          message: 'the dead-letter queue is disabled',
        });
      }
      const targets = gen.sinks.filter(
        (s) => opts.sink === undefined || s.name === opts.sink,
      );
      if (targets.length === 0) {
        throw new LcError({
          code: 'LC_ERR_INVALID_INPUT',
          message: `no sink named "${opts.sink ?? ''}"`,
        });
      }
      let replayed = 0;
      let failed = 0;
      for (const sink of targets) {
        const r = await store.replay({
          sink,
          filter: { ...opts.filter, sink: sink.name },
          ...(opts.onProgress === undefined
            ? {}
            : { onProgress: opts.onProgress }),
        });
        replayed += r.replayed;
        failed += r.failed;
      }
      return { replayed, failed };
    },
  };
  return agent;
}
