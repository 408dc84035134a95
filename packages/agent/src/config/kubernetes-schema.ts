import {
  DEFAULT_EXCLUDE_ANNOTATION,
  DEFAULT_POD_LABELS,
  SERVICE_ACCOUNT_DIR,
} from '@lc/monitors';
import { z } from 'zod';
import { multilineSchema } from './multiline-schema.js';
import {
  duration,
  flag,
  httpUrl,
  positiveInt,
  section,
  size,
  stringMap,
} from './schema-helpers.js';

/** Name globs of pods' namespaces, names or containers. */
const nameGlobs = (what: string) =>
  z
    .array(
      z
        .string()
        .min(1)
        .regex(
          /^[^/_]+$/,
          'expected a name glob without "/" or "_" (Kubernetes names have neither)',
        ),
    )
    .default([])
    .describe(what);

const filter = (verb: string) =>
  section({
    namespaces: nameGlobs(`Namespace globs to ${verb}.`),
    pods: nameGlobs(`Pod name globs to ${verb}.`),
    containers: nameGlobs(`Container name globs to ${verb}.`),
  }).prefault({});

const keyList = (what: string, defaults: readonly string[]) =>
  z
    .array(z.string().min(1))
    .default([...defaults])
    .describe(what);

/** `sources.kubernetes.metadata`: pod metadata from the Kubernetes API. */
const metadata = section({
  enabled: z
    .union([z.boolean(), z.literal('auto')])
    .default('auto')
    .describe(
      'Pod labels, annotations, owner and node from the Kubernetes API, and pod exclusion by annotation. auto: on in a cluster (KUBERNETES_SERVICE_HOST set and the service account token mounted) when the node name is known.',
    ),
  api_server: httpUrl(
    'The API server. @default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT',
  ).optional(),
  node_name: z
    .string()
    .min(1)
    .optional()
    .describe(
      "This node's name (only its pods are watched). @default $NODE_NAME (set it from the downward API: spec.nodeName)",
    ),
  token_file: z
    .string()
    .min(1)
    .default(`${SERVICE_ACCOUNT_DIR}/token`)
    .describe('Bearer token file, re-read every minute and after a 401.'),
  ca_file: z
    .string()
    .min(1)
    .default(`${SERVICE_ACCOUNT_DIR}/ca.crt`)
    .describe('The cluster CA (PEM) the API server is checked against.'),
  pod_labels: keyList(
    'Pod label keys added as pod_label_<key> (non-alphanumerics become _; * matches any run). An allow-list: every value becomes a stream.',
    DEFAULT_POD_LABELS,
  ),
  pod_annotations: keyList(
    'Annotation keys added as pod_annotation_<key>.',
    [],
  ),
  exclude_annotation: z
    .union([z.string().min(1), z.literal(false)])
    .default(DEFAULT_EXCLUDE_ANNOTATION)
    .describe(
      'A pod with this annotation set to "true" is not captured (its lines are read and dropped, counted); false: no opt-out.',
    ),
  pod_wait: duration(
    3000,
    "How long a pod's new log file waits for the pod to reach the watch before it is read without metadata (at start: how long all files wait for the first list).",
  ),
  deleted_pod_retention: duration(
    300_000,
    "How long a deleted pod's metadata is kept for its log files found late.",
  ),
  watch_timeout: duration(
    300_000,
    'Server-side timeout of each watch request (then it is resumed from the last resource version).',
  ),
  request_timeout: duration(
    30_000,
    'Longest wait for a list answer, and for a silent watch past its timeout.',
  ),
});

/**
 * `sources.kubernetes`: container logs of the node's pods, read as files
 * from the kubelet's directory (CRI format: containerd, CRI-O).
 */
export const kubernetesSource = section({
  enabled: flag(
    false,
    'Read the container logs of the pods on this node from the kubelet directory (containerd, CRI-O; see docs/kubernetes.md).',
  ),
  root: z
    .string()
    .min(1)
    .default('/var/log/pods')
    .describe(
      'Where the kubelet keeps pod logs (<namespace>_<pod>_<uid>/<container>/<n>.log).',
    ),
  containers_dir: z
    .union([z.string().min(1), z.literal(false)])
    .default('/var/log/containers')
    .describe(
      "The kubelet's symlinks (<pod>_<namespace>_<container>-<id>.log), read for the container_id label only; false: no container_id.",
    ),
  include: filter(
    'read (a file must match one glob of every list given; empty: all)',
  ),
  exclude: filter('skip (matching one glob of any list skips the file)'),
  labels: stringMap('Labels added to every record.'),
  start_at: z
    .enum(['beginning', 'end', 'recent'])
    .default('beginning')
    .describe(
      'Where files present at startup without a saved position start (recent: the last recent_bytes, from a line start).',
    ),
  recent_bytes: size(64 * 1024, 'How far back start_at: recent starts.'),
  max_line_bytes: size(
    256 * 1024,
    'Longest message kept, a line joined from partial (P) fragments included.',
  ),
  long_line_policy: z
    .enum(['truncate', 'skip'])
    .default('truncate')
    .describe(
      'Longer messages are truncated or skipped (counted); reading goes on.',
    ),
  multiline: multilineSchema.describe(
    "Join messages into multiline records (stack traces), after partial (P) fragments are joined, each container's stdout and stderr separately. A record has its first line's time; its position never passes a line still waiting for its record, so a restart (a crash included) in the middle of a trace reads it again whole. Pending records are emitted when the file is rotated away or deleted, or after flush_timeout.",
  ),
  rescan_interval: duration(
    1000,
    'Full rescan of the pod log directories (fs.watch finds most changes sooner).',
  ),
  poll_interval: duration(
    250,
    'How often recently written files are checked without waiting for an event.',
  ),
  max_idle_poll_interval: duration(
    60_000,
    'Longest wait between two checks (stat) of an idle file without an fs.watch event: an idle file is checked again after half the time it has been idle (at least poll_interval), at most this long. Events read a file that grows again at once; this bounds how late growth, truncation or rotation is noticed when no event comes (inotify overflow, network filesystems, watch: false). 10,000 idle files cost 10,000 / this stats a second.',
  ),
  watch: flag(
    true,
    'Use fs.watch on directories for fast discovery and reads.',
  ),
  watch_delay: duration(
    250,
    'How long a read woken by fs.watch waits for more writes to gather; adds at most this much latency.',
  ),
  max_files: positiveInt(
    100_000,
    'Most files tracked (excess counted and logged).',
  ),
  max_open_files: positiveInt(
    1024,
    'Most file descriptors held at once (keep well under `ulimit -n`).',
  ),
  idle_close: duration(
    60_000,
    'Close a file after this long without growth; reopened when it changes.',
  ),
  partial_line_flush: duration(
    1000,
    'How long an unterminated last line, or partial fragments without their final line, of a rotated or deleted file wait before they are emitted.',
  ),
  rotated_file_grace: duration(
    5000,
    'How long a renamed-away file stays open to drain late writes.',
  ),
  deleted_file_grace: duration(
    5000,
    'How long the files of a deleted pod stay open after they are read to their end (longer while they have unread bytes).',
  ),
  metadata: metadata.prefault({}),
});
