import { once, silentLogger, systemClock } from '@lc/core';
import type { FileStatus } from '../file/file-status.js';
import { FileMonitorEngine } from '../file/internal/file-monitor-engine.js';
import type { FileFormatFactory } from '../file/internal/line-stage.js';
import { ContainerLinks } from './internal/container-links.js';
import { CriMultiline } from './internal/cri-multiline.js';
import { CriStage } from './internal/cri-stage.js';
import { createKubernetesMetrics } from './internal/kubernetes-metrics.js';
import { MalformedLog } from './internal/malformed-log.js';
import { lookupMetadata } from './internal/lookup-metadata.js';
import type { PodLabels } from './internal/pod-labels.js';
import { podLabels } from './internal/pod-labels.js';
import type {
  KubernetesFileMetadata,
  KubernetesMonitorOptions,
} from './kubernetes-monitor-options.js';
import { resolveKubernetesOptions } from './kubernetes-monitor-options.js';
import { parsePodLogPath, podLogKey } from './pod-log-path.js';

/**
 * Reads the container logs the kubelet keeps under `/var/log/pods` (CRI
 * format, as containerd and CRI-O write them) with the file monitor's
 * machinery: identities, positions, rotation, deletion and the ack
 * watermark are the file monitor's, so everything it guarantees holds.
 * Each record carries the line's own time (nanoseconds), `stream`, and
 * the pod labels of its path; `P` fragments are joined with their `F`,
 * then, with `multiline`, messages into multiline records per stream.
 */
export interface KubernetesMonitor {
  /**
   * Discover pod log files, resume each from its committed position,
   * finish generations rotated (or compressed) while down, and start
   * watching. Idempotent.
   */
  start(): Promise<void>;
  /**
   * Read everything available now (waiting for the intake when it pushes
   * back). Fragments of a live file waiting for their `F`, and multiline
   * records waiting for their next line, stay held (the latter until
   * their flush timeout).
   */
  flush(): Promise<void>;
  /**
   * Stop reading and watching, close every file. Held fragments and
   * pending multiline records are not emitted: they are read again on the
   * next start. Idempotent.
   */
  shutdown(): Promise<void>;
  /** Every tracked pod log file (as the file monitor reports them). */
  status(): FileStatus[];
}

/** Bytes a CRI line has before its message (time, stream, tag), at most. */
const CRI_PREFIX_BYTES = 64;

/**
 * Create a {@link KubernetesMonitor}. Validates options and throws
 * `LcError` `LC_ERR_INVALID_OPTION` naming the bad option. Nothing is read
 * before `start()`.
 */
export function createKubernetesMonitor(
  options: KubernetesMonitorOptions,
): KubernetesMonitor {
  const o = resolveKubernetesOptions(options);
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const metrics = createKubernetesMetrics(options.registry);
  const links =
    o.containersDir === undefined
      ? undefined
      : new ContainerLinks(o.containersDir, () => clock.monotonicNow());
  const malformed = new MalformedLog(clock, logger, metrics.malformedLines);
  const longLinePolicy = options.longLinePolicy ?? 'truncate';

  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.error({ err: error }, 'kubernetes monitor error'));
  const format: FileFormatFactory = ({ path, counters, emit, isBehind }) => {
    const ref = parsePodLogPath(path);
    const trackedAt = clock.monotonicNow();
    const base = { path, ref, labels: o.labels, instance: o.instance };
    let labels: PodLabels = podLabels(base);
    let excluded = false;
    const stage = new CriStage({
      path,
      maxLineBytes: o.maxLineBytes,
      policy: longLinePolicy,
      counters,
      metrics,
      labels: () => labels,
      excluded: () => excluded,
      malformed: (offset, line) => malformed.report(path, offset, line),
      ...(o.multiline === undefined
        ? {}
        : {
            multiline: new CriMultiline({
              multiline: o.multiline,
              clock,
              registry: options.registry,
              emit,
              isBehind,
              onError,
            }),
          }),
    });
    if (ref === undefined) return { stage };
    return {
      stage,
      get excluded() {
        return excluded;
      },
      async prepare() {
        const key = podLogKey(ref);
        let containerId = links?.get(key);
        if (containerId === undefined && links !== undefined) {
          // The kubelet links a container right after starting it.
          await links.refreshSince(trackedAt);
          containerId = links.get(key);
        }
        let metadata: KubernetesFileMetadata | undefined;
        if (options.metadata !== undefined)
          metadata = await lookupMetadata(
            options.metadata,
            { ...ref, containerId },
            { clock, timeoutMs: o.metadataTimeoutMs, logger, metrics },
          );
        labels = podLabels({
          ...base,
          containerId,
          metadata: metadata?.labels,
        });
        if (metadata?.exclude === true) {
          // The user's choice: counted and logged, never silent.
          excluded = true;
          metrics.excludedFiles.inc();
          logger.info(
            {
              path,
              namespace: ref.namespace,
              pod: ref.pod,
              container: ref.container,
              reason: metadata.excludeReason,
            },
            'kubernetes: pod excluded from capture; this log file is read and its lines dropped',
          );
        }
      },
    };
  };
  // Multiline joining is the stage's (per stream, after the P/F join),
  // not the file monitor's (per file).
  const { multiline: _perStream, ...fileOptions } = options;
  const engine = new FileMonitorEngine(
    {
      ...fileOptions,
      include: o.includeGlobs,
      exclude: o.excludeGlobs,
      // The splitter's limit leaves room for the CRI prefix; the stage
      // applies `maxLineBytes` to the message.
      maxLineBytes: o.maxLineBytes + CRI_PREFIX_BYTES,
      longLinePolicy,
      labels: o.labels,
      instance: o.instance,
      encoding: 'utf8',
      readCompressed: true,
      followSymlinks: false,
      includeHidden: false,
    },
    { format },
  );
  return {
    start: once(() => engine.start()),
    flush: () => engine.flush(),
    shutdown: once(() => engine.shutdown()),
    status: () => engine.status(),
  };
}
