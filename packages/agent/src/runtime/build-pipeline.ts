import { resolve } from 'node:path';
import type {
  CursorCommitter,
  DeadLetterStore,
  Instrumentation,
  Intake,
  Sink,
} from '@lc/core';
import type { Dispatcher } from '@lc/dispatcher';
import { createDispatcher } from '@lc/dispatcher';
import type {
  ContainerMonitor,
  FileMonitor,
  KubernetesMonitor,
} from '@lc/monitors';
import type { BatchPersistence } from '@lc/persistence';
import type { AgentConfig } from '../config/schema.js';
import type { Processor } from '../processing/create-processor.js';
import type { KubernetesMetadataPlan } from './kubernetes-metadata.js';
import { createProcessingIntake } from '../processing/processing-intake.js';
import { buildSinks } from './build-sinks.js';

/**
 * One pipeline generation: what a config builds and a reload replaces
 * (sinks, dispatcher, processing intake) and the sources feeding it.
 */
/**
 * Whether the disk buffer runs: it holds what backpressure would hold, so
 * only with `drop_policy: block` (a drop policy drops instead).
 */
export function spillActive(d: AgentConfig['dispatcher']): boolean {
  return d.spill.enabled && d.drop_policy === 'block';
}

export interface Generation {
  readonly config: AgentConfig;
  readonly sinks: Sink[];
  readonly dispatcher: Dispatcher;
  readonly intake: Intake;
  files: FileMonitor[];
  docker: ContainerMonitor | undefined;
  kubernetes: KubernetesMonitor | undefined;
  /** The Kubernetes source's API metadata (running or off), with the source. */
  kubernetesMetadata: KubernetesMetadataPlan | undefined;
}

/** What {@link buildGeneration} takes from the agent. */
export interface PipelineDeps {
  readonly inst: Instrumentation;
  /** Where the dispatcher's ack watermark goes (the position manager). */
  readonly committer: CursorCommitter;
  readonly batchStore: BatchPersistence | undefined;
  readonly deadLetters: DeadLetterStore | undefined;
  /** The processor now (a reload can swap it). */
  readonly processor: () => Processor;
}

/** Build the sinks, the dispatcher and the processing intake of `cfg`; sources come later. */
export function buildGeneration(
  cfg: AgentConfig,
  deps: PipelineDeps,
): Generation {
  const { inst, committer, batchStore, deadLetters } = deps;
  const built = buildSinks(cfg, inst);
  const d = cfg.dispatcher;
  const dispatcher = createDispatcher({
    ...inst,
    sinks: built.sinks,
    routes: built.routes,
    defaultSinks: built.defaultSinks,
    committer,
    ...(batchStore === undefined
      ? {}
      : { batchStore, persist: cfg.persistence.mode }),
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
    ...(spillActive(d)
      ? {
          spill: {
            directory: d.spill.directory ?? resolve(cfg.app.data_dir, 'spill'),
            maxBytes: d.spill.max_bytes,
            maxSegmentBytes: d.spill.max_segment_bytes,
            fsync: d.spill.fsync,
            whenFull: d.spill.when_full,
            ...(d.spill.min_free === undefined
              ? {}
              : { minFreeBytes: d.spill.min_free }),
          },
        }
      : {}),
    ...(d.max_retries === undefined
      ? {}
      : { retry: { maxAttempts: d.max_retries + 1 } }),
  });
  const intake = createProcessingIntake(dispatcher, {
    process: (r) => deps.processor().process(r),
    processMany: (rs) => deps.processor().processMany(rs),
    pipelineFor: (r) => deps.processor().pipelineFor(r),
    stats: () => deps.processor().stats(),
  });
  return {
    config: cfg,
    sinks: built.sinks,
    dispatcher,
    intake,
    files: [],
    docker: undefined,
    kubernetes: undefined,
    kubernetesMetadata: undefined,
  };
}
