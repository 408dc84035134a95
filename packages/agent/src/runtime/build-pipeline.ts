import { resolve } from 'node:path';
import type {
  CursorCommitter,
  DeadLetterStore,
  Instrumentation,
  Intake,
  Sink,
} from '@lc/core';
import type { Dispatcher, DispatcherShutdown } from '@lc/dispatcher';
import { createDispatcher } from '@lc/dispatcher';
import type {
  ContainerMonitor,
  DockerFilesMonitor,
  FileMonitor,
  KubernetesMonitor,
} from '@lc/monitors';
import type { BatchPersistence } from '@lc/persistence';
import type { Processor } from '@lc/processing';
import { createProcessingIntake } from '@lc/processing';
import type { AgentConfig } from '../config/schema.js';
import type { KubernetesMetadataPlan } from './kubernetes-metadata.js';
import { buildSinks } from './build-sinks.js';
import { readSinkFiles, unwrapSinkFiles } from './sink-files.js';
import type { SinkFiles } from './sink-files.js';
import { startSources, stopSources } from './build-sources.js';

/**
 * Whether the disk buffer runs: it holds what backpressure would hold, so
 * only with `drop_policy: block` (a drop policy drops instead).
 */
export function spillActive(d: AgentConfig['dispatcher']): boolean {
  return d.spill.enabled && d.drop_policy === 'block';
}

/**
 * One pipeline generation: what a config builds and a reload replaces
 * (sinks, dispatcher, processing intake) and the sources feeding it.
 */
export interface Generation {
  readonly config: AgentConfig;
  readonly sinks: Sink[];
  /** Fingerprint of the TLS and secret files the sinks were built from. */
  readonly sinkFiles: string;
  readonly dispatcher: Dispatcher;
  readonly intake: Intake;
  files: FileMonitor[];
  /** Containers streamed through the engine API (api mode; other log drivers in files mode). */
  docker: ContainerMonitor | undefined;
  /** json-file logs read from the data root (files mode). */
  dockerFiles: DockerFilesMonitor | undefined;
  /** Files mode: the API part is optional; its start failure goes here (logged), not fatal. */
  dockerApiUnavailable: ((error: unknown) => void) | undefined;
  kubernetes: KubernetesMonitor | undefined;
  /** The Kubernetes source's API metadata (running or off), with the source. */
  kubernetesMetadata?: KubernetesMetadataPlan | undefined;
}

/** What {@link buildGeneration} takes from the agent. */
export interface PipelineDeps {
  readonly inst: Instrumentation;
  /** Where the dispatcher's ack watermark goes (the position manager). */
  readonly committer: CursorCommitter;
  readonly batchStore: BatchPersistence | undefined;
  readonly deadLetters: DeadLetterStore | undefined;
  /** The agent's processor (a slot: a reload can swap what it runs). */
  readonly processor: Processor;
}

/**
 * Build the sinks, the dispatcher and the processing intake of `cfg`;
 * sources come later. `files`: the sinks' TLS and secret files, already
 * read (else read now; unreadable ones throw `LC_ERR_CONFIG`).
 */
export async function buildGeneration(
  cfg: AgentConfig,
  deps: PipelineDeps,
  files: SinkFiles = unwrapSinkFiles(readSinkFiles(cfg)),
): Promise<Generation> {
  const { inst, committer, batchStore, deadLetters } = deps;
  const built = await buildSinks(cfg, inst, files);
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
            trigger: d.spill.trigger,
            // Rotated-away or deleted files still open with bytes not yet
            // safe: the buffer takes records even while sinks deliver.
            atRisk: () => gen.files.some((m) => m.atRisk()),
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
  // Sources → processing → dispatcher: what processing drops never
  // reaches the dispatcher (see createProcessingIntake).
  const intake = createProcessingIntake(dispatcher, deps.processor);
  const gen: Generation = {
    config: cfg,
    sinks: built.sinks,
    sinkFiles: files.fingerprint,
    dispatcher,
    intake,
    files: [],
    docker: undefined,
    dockerFiles: undefined,
    dockerApiUnavailable: undefined,
    kubernetes: undefined,
    kubernetesMetadata: undefined,
  };
  return gen;
}

/**
 * Start `g`: the dispatcher (it delivers WAL leftovers first), then its
 * sources. `reload` (a reload's new generation): a WAL backlog larger than
 * the new intake bound must not hold the reload, and a stop after it,
 * until the sinks take it. With the disk buffer the dispatcher recovers in
 * the background anyway; without it, it does so too here, the sources
 * start at once and wait for room as in an outage, and a recovery failure
 * goes to `reload.onError`.
 */
export async function startGeneration(
  g: Generation,
  reload?: { readonly onError: (error: unknown) => void },
): Promise<void> {
  const started = g.dispatcher.start();
  if (reload !== undefined && !spillActive(g.config.dispatcher))
    started.catch(reload.onError);
  else await started;
  await startSources(g);
}

/**
 * Stop `g`: sources first, then the dispatcher drains (committing what was
 * delivered), then `committer` flushes. Resolves what the dispatcher left
 * and where, for the caller to report.
 */
export async function stopGeneration(
  g: Generation,
  committer: { flush(): Promise<void> },
): Promise<DispatcherShutdown> {
  await stopSources(g);
  const summary = await g.dispatcher.shutdown();
  await committer.flush();
  return summary;
}
