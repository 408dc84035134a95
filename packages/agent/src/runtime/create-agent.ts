import { resolve } from 'node:path';
import type { DeadLetterStore } from '@lc/core';
import { LcError, silentLogger } from '@lc/core';
import type { BatchPersistence } from '@lc/persistence';
import type { PositionManager } from '@lc/positions';
import type { Processor } from '@lc/processing';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentConfig } from '../config/schema.js';
import type {
  Agent,
  AgentOptions,
  AgentState,
  PositionsStatus,
} from './agent.js';
import { bufferStatus } from './buffer-status.js';
import {
  buildGeneration,
  spillActive,
  startGeneration,
  stopGeneration,
} from './build-pipeline.js';
import type { Generation } from './build-pipeline.js';
import { buildPositions } from './build-positions.js';
import { buildProcessing, createProcessorSlot } from './build-processing.js';
import {
  attachSources,
  recordSourceWatches,
  startSources,
  stopSources,
} from './build-sources.js';
import { dlqDirectory, openStores, walDirectory } from './build-stores.js';
import { diffConfig } from './diff-config.js';
import { readSinkFiles, unwrapSinkFiles } from './sink-files.js';
import type { SinkFiles } from './sink-files.js';
import { agentReadiness } from './readiness.js';
import { removedSinkBacklog, reportRemovedSinks } from './removed-sinks.js';
import { reportShutdown } from './shutdown-report.js';
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
  // The builders, each in its own file: positions, the dispatcher's stores,
  // processing, then per generation sinks + dispatcher + processing intake
  // (build-pipeline) and sources. Start and reload use the same ones.
  const positions: PositionManager = buildPositions(
    config,
    inst,
    options.positionStore,
  );
  let deadLetters: DeadLetterStore | undefined;
  let batchStore: BatchPersistence | undefined;
  const processing = createProcessorSlot(buildProcessing(config, inst));
  const processor = processing.processor;
  let gen: Generation | undefined;
  /** HTTP ingest is refused until the intake has room again. */
  let ingestPaused = false;
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

  const buildPipeline = (
    cfg: AgentConfig,
    files?: SinkFiles,
  ): Promise<Generation> =>
    buildGeneration(
      cfg,
      {
        inst,
        committer: positions,
        batchStore,
        deadLetters,
        processor,
      },
      files,
    );
  const buildSources = (g: Generation, cfg: AgentConfig): void =>
    attachSources(g, cfg, {
      inst,
      positions,
      env: options.env ?? process.env,
    });
  /** Stop `g` and say, in one line, what it left and where. */
  const stopPipeline = async (
    g: Generation,
    context: 'stop' | 'reload',
  ): Promise<void> => {
    const summary = await stopGeneration(g, positions);
    const c = g.config;
    reportShutdown(logger, summary, {
      context,
      timeoutMs: c.dispatcher.shutdown_timeout,
      walDirectory: batchStore === undefined ? undefined : walDirectory(c),
      spillDirectory: spillActive(c.dispatcher)
        ? (c.dispatcher.spill.directory ?? resolve(c.app.data_dir, 'spill'))
        : undefined,
    });
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
        await recordSourceWatches(config, positions);
        ({ deadLetters, batchStore } = await openStores(config, inst));
        const g = await buildPipeline(config);
        buildSources(g, config);
        gen = g;
        await startGeneration(g);
        state = 'running';
        logger.info(
          {
            sinks: g.sinks.map((s) => s.name),
            fileGroups: g.files.length,
            kubernetes: g.kubernetes !== undefined,
            docker: g.docker !== undefined || g.dockerFiles !== undefined,
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
        if (gen !== undefined) await stopPipeline(gen, 'stop');
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
        let nextProcessor: Processor | undefined;
        let nextGen: Generation | undefined;
        let filesChanged = false;
        try {
          if (diff.processing) nextProcessor = buildProcessing(next, inst);
          // Sink files are read on every reload: a rotated certificate or
          // secret rebuilds the sinks even when the config text is the same.
          const files = unwrapSinkFiles(readSinkFiles(next));
          filesChanged = files.fingerprint !== gen.sinkFiles;
          if (diff.sinks || diff.dispatcher || filesChanged)
            nextGen = await buildPipeline(next, files);
        } catch (error) {
          reloadCounter.labels('rejected').inc();
          throw error;
        }
        const swapProcessor = () => {
          if (nextProcessor !== undefined) processing.swap(nextProcessor);
        };
        state = 'reloading';
        try {
          if (nextGen !== undefined) {
            await stopPipeline(gen, 'reload');
            // What the WAL holds goes to the new pipeline (it recovers it on
            // start), except for sinks the reload removed: dead-lettered.
            if (batchStore !== undefined)
              reportRemovedSinks(
                logger,
                removedSinkBacklog(
                  gen.sinks.map((s) => s.name),
                  nextGen.sinks.map((s) => s.name),
                  batchStore.pending(),
                ),
                { wal: walDirectory(config), dlq: dlqDirectory(config) },
              );
            swapProcessor();
            buildSources(nextGen, next);
            gen = nextGen;
            await startGeneration(nextGen, inst);
            applied.push(
              ...(diff.sinks || filesChanged ? ['sinks'] : []),
              ...(diff.dispatcher ? ['dispatcher'] : []),
              'sources',
            );
          } else if (diff.sources) {
            await stopSources(gen);
            swapProcessor();
            buildSources(gen, next);
            await startSources(gen);
            applied.push('sources');
          } else {
            swapProcessor();
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
          {
            applied,
            requiresRestart: diff.requiresRestart,
            ...(filesChanged ? { sinkFilesChanged: true } : {}),
          },
          'configuration reloaded',
        );
        return { applied, requiresRestart: diff.requiresRestart };
      }),
    ingest(records) {
      if (gen === undefined || state !== 'running') {
        throw new LcError({
          code: 'LC_ERR_SERVICE_UNAVAILABLE',
          message: `agent is ${state}: retry later`,
        });
      }
      if (ingestPaused) {
        throw new LcError({
          code: 'LC_ERR_QUEUE_FULL',
          message:
            'the intake is full (sinks down or slow past the disk buffer): retry later',
        });
      }
      const intake = gen.intake;
      if (intake.dispatchMany(records)) return;
      // Taken, and now over budget: refuse the next requests until there
      // is room, instead of holding ever more in memory.
      ingestPaused = true;
      intake.whenWritable().then(
        () => (ingestPaused = false),
        () => (ingestPaused = false),
      );
    },
    readiness: () =>
      agentReadiness({
        state,
        positions: positionsStatus(),
        dispatcher: gen?.dispatcher.stats(),
        deadLetters: deadLetters !== undefined,
        persistence: batchStore !== undefined,
        fileGroups: gen?.files.length ?? 0,
        kubernetes: gen?.kubernetes !== undefined,
        kubernetesDegraded: kubernetesReadiness(kubernetesStatus(gen)),
        docker: gen?.docker !== undefined || gen?.dockerFiles !== undefined,
        http: config.sources.http.enabled,
      }),
    status: () => {
      // Pod log files are files: listed (and at risk) like the others.
      const files = [
        ...(gen?.files.flatMap((m) => m.status()) ?? []),
        ...(gen?.kubernetes?.status() ?? []),
        ...(gen?.dockerFiles?.status() ?? []),
      ];
      const dispatcher = gen?.dispatcher.stats();
      return {
        sinks: dispatcher?.sinks ?? [],
        routes: dispatcher?.routes ?? [],
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
