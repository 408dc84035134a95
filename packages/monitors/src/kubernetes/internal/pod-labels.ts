import type { Labels } from '@lc/core';
import { freezeLabels } from '@lc/core';
import type { PodLogRef } from '../pod-log-path.js';

/** The label sets of one pod log file: without a stream (unparsed lines), and per stream. */
export interface PodLabels {
  readonly base: Labels;
  readonly stdout: Labels;
  readonly stderr: Labels;
}

/** What goes into a file's labels besides its path. */
export interface PodLabelInputs {
  /** The file's path (labels of a path outside the kubelet layout). */
  readonly path: string;
  readonly ref: PodLogRef | undefined;
  readonly containerId?: string | undefined;
  /** From the metadata lookup (pod labels, node…). */
  readonly metadata?: Labels | undefined;
  /** The user's static labels. */
  readonly labels: Labels;
  readonly instance: string;
}

/**
 * Build the shared, frozen label sets of one pod log file: `source`, the
 * path's `namespace`, `pod`, `pod_uid`, `container`, `restart_count`,
 * `container_id` when known, the metadata labels, the user's labels,
 * `instance`, and `stream` per stream.
 */
export function podLabels(input: PodLabelInputs): PodLabels {
  const base: Record<string, string> = { source: 'kubernetes' };
  const ref = input.ref;
  if (ref === undefined) base['file_path'] = input.path;
  else {
    base['namespace'] = ref.namespace;
    base['pod'] = ref.pod;
    base['pod_uid'] = ref.podUid;
    base['container'] = ref.container;
    base['restart_count'] = String(ref.restartCount);
  }
  if (input.containerId !== undefined) base['container_id'] = input.containerId;
  const merged = {
    ...base,
    ...input.metadata,
    ...input.labels,
    instance: input.labels['instance'] ?? input.instance,
  };
  return {
    base: freezeLabels(merged),
    stdout: freezeLabels({ ...merged, stream: 'stdout' }),
    stderr: freezeLabels({ ...merged, stream: 'stderr' }),
  };
}
