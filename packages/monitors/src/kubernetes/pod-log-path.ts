/**
 * A container log file as the kubelet lays them out:
 * `<root>/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log`,
 * rotated to `<n>.log.<YYYYMMDD-hhmmss>` and compressed to `….gz`.
 */
export interface PodLogRef {
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  /** The `<n>` of `<n>.log`: how many times the container restarted before this one. */
  readonly restartCount: number;
}

/**
 * A `/var/log/containers` symlink name:
 * `<pod>_<namespace>_<container>-<container id>.log`.
 */
export interface ContainerLogLink {
  readonly pod: string;
  readonly namespace: string;
  readonly container: string;
  /** The runtime's container id (64 hex digits). */
  readonly containerId: string;
}

// Namespaces and container names are DNS labels, pod names DNS subdomains,
// uids UUIDs: none of them contains `_` or `/`, so the separators are exact.
const POD_DIR = /^([^_/]+)_([^_/]+)_([^_/]+)$/;
const LOG_NAME = /^(\d+)\.log(?:\.[^/]*)?$/;
const LINK_NAME = /^([^_/]+)_([^_/]+)_([^_/]+)-([0-9a-f]{64})\.log$/;

/**
 * Parse the last three segments of a pod log path (the live file, a
 * rotated generation or a compressed one). Undefined when the path is not
 * in the kubelet layout. The root is not checked.
 */
export function parsePodLogPath(path: string): PodLogRef | undefined {
  const parts = path.split('/');
  const n = parts.length;
  if (n < 3) return undefined;
  const dir = POD_DIR.exec(parts[n - 3] as string);
  const container = parts[n - 2] as string;
  const log = LOG_NAME.exec(parts[n - 1] as string);
  if (dir === null || log === null || container === '') return undefined;
  return {
    namespace: dir[1] as string,
    pod: dir[2] as string,
    podUid: dir[3] as string,
    container,
    restartCount: Number(log[1]),
  };
}

/**
 * The key of a pod log file that its rotated and compressed generations
 * and its `/var/log/containers` link share: `<ns>_<pod>_<uid>/<container>/<n>.log`.
 */
export function podLogKey(ref: PodLogRef): string {
  return `${ref.namespace}_${ref.pod}_${ref.podUid}/${ref.container}/${ref.restartCount}.log`;
}

/** Parse a `/var/log/containers` link name; undefined when it is not one. */
export function parseContainerLogLink(
  name: string,
): ContainerLogLink | undefined {
  const m = LINK_NAME.exec(name);
  if (m === null) return undefined;
  return {
    pod: m[1] as string,
    namespace: m[2] as string,
    container: m[3] as string,
    containerId: m[4] as string,
  };
}
