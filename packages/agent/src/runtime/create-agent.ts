import { resolve } from 'node:path';
import type { DeadLetterStore } from '@lc/core';
import { LcError, silentLogger } from '@lc/core';
import { kubernetesIncludeGlobs, recordFileWatches } from '@lc/monitors';
import type { BatchPersistence } from '@lc/persistence';
import { createBatchPersistence, createDeadLetterStore } from '@lc/persistence';
import type { PositionManager } from '@lc/positions';
import { createPositionManager } from '@lc/positions';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentConfig } from '../config/schema.js';
import type { Processor } from '../processing/create-processor.js';
import { createProcessor } from '../processing/create-processor.js';
import type {
  Agent,
  AgentOptions,
  AgentState,
  PositionsStatus,
} from './agent.js';
import { bufferStatus } from './buffer-status.js';
import { buildGeneration, spillActive } from './build-pipeline.js';
import type { Generation, PipelineDeps } from './build-pipeline.js';
import { createPositionStore } from './build-positions.js';
import { attachSources } from './build-sources.js';
import { diffConfig } from './diff-config.js';
import {
  kubernetesReadiness,
  kubernetesStatus,
} from './kubernetes-metadata.js';

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

  const pipelineDeps = (): PipelineDeps => ({
    inst,
    committer: positions,
    batchStore,
    deadLetters,
    processor: () => processor,
  });
  const buildPipeline = (cfg: AgentConfig): Generation =>
    buildGeneration(cfg, pipelineDeps());
  const buildSources = (g: Generation, cfg: AgentConfig): void =>
    attachSources(g, cfg, {
      inst,
      positions,
      env: options.env ?? process.env,
    });

  const startSources = async (g: Generation): Promise<void> => {
    for (const m of g.files) await m.start();
    // The watch first: the pod log files' first reads wait for its list.
    await g.kubernetesMetadata?.metadata?.start();
    await g.kubernetes?.start();
    await g.docker?.start();
  };

  const stopSources = async (g: Generation): Promise<void> => {
    await Promise.all([
      ...g.files.map((m) => m.shutdown()),
      g.kubernetes?.shutdown(),
      g.docker?.shutdown(),
    ]);
    await g.kubernetesMetadata?.metadata?.shutdown();
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
        const k8s = config.sources.kubernetes;
        if (k8s.enabled)
          recorded =
            recordFileWatches(
              positions,
              kubernetesIncludeGlobs({
                root: resolve(k8s.root),
                include: k8s.include,
              }),
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
            kubernetes: g.kubernetes !== undefined,
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
        kubernetes: kubernetesReadiness(kubernetesStatus(gen)),
        docker: gen?.docker === undefined ? 'disabled' : 'up',
      };
      // Positions that cannot be saved are a durability failure: delivery
      // goes on, but a crash would replay (or, for a new file rotated
      // away meanwhile, miss) what was read since. Not ready until fixed.
      return { ready: state === 'running' && saves.state === 'ok', components };
    },
    status: () => {
      // Pod log files are files: listed (and at risk) like the others.
      const files = [
        ...(gen?.files.flatMap((m) => m.status()) ?? []),
        ...(gen?.kubernetes?.status() ?? []),
      ];
      const dispatcher = gen?.dispatcher.stats();
      return {
        sinks: dispatcher?.sinks ?? [],
        files,
        containers: gen?.docker?.status() ?? [],
        kubernetes: kubernetesStatus(gen),
        positions: positionsStatus(),
        buffer: bufferStatus(
          dispatcher,
          gen !== undefined && spillActive(gen.config.dispatcher),
          batchStore?.pending(),
          files,
        ),
      };
    },
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
