import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Instrumentation, Labels } from '@lc/core';
import { LcError } from '@lc/core';
import type { FileMonitorOptions } from '../file/file-monitor-options.js';
import type { MultilineOptions } from '../multiline/multiline-options.js';
import { resolveMultilineOptions } from '../multiline/multiline-options.js';
import type { PodLogRef } from './pod-log-path.js';

/** A pod log file, as the metadata lookup is asked about it. */
export interface KubernetesPodRef extends PodLogRef {
  /** From the `/var/log/containers` link, when there is one. */
  readonly containerId: string | undefined;
}

/** What a metadata lookup says about one pod log file. */
export interface KubernetesFileMetadata {
  /** Labels added to every record of the file (pod labels, owner, node…). */
  readonly labels?: Labels;
  /**
   * The file is not captured at all (the pod opted out, e.g. by
   * annotation): its lines are read and dropped, counted in
   * `lc_kubernetes_excluded_lines_total`, and its position moves on.
   */
  readonly exclude?: boolean;
  /** Why it is excluded, for the log line (e.g. `annotation lc.dev/exclude: "true"`). */
  readonly excludeReason?: string;
}

/**
 * Metadata of a pod log file from elsewhere (the Kubernetes API; see
 * `createKubernetesPodMetadata`), looked up once per file identity before
 * its first line is read: labels to add to its records, or its exclusion.
 * May be asynchronous (an API lookup behind a cache); `undefined` adds
 * nothing. A rejection or a lookup slower than `metadataTimeoutMs` is
 * counted and logged, and the file is read without those labels (and
 * captured: only an answer excludes a file).
 */
export type KubernetesMetadataLookup = (
  ref: KubernetesPodRef,
) =>
  | KubernetesFileMetadata
  | undefined
  | Promise<KubernetesFileMetadata | undefined>;

/**
 * Which pod log files to read, by name globs (`*`, `?`, `[...]`, `{a,b}`).
 * Within `include`, a file must match one glob of every list given;
 * within `exclude`, matching one glob of any list skips it.
 */
export interface KubernetesFilter {
  readonly namespaces?: readonly string[];
  readonly pods?: readonly string[];
  readonly containers?: readonly string[];
}

/** The file monitor options the Kubernetes source passes through as they are. */
type PassedFileOptions = Pick<
  FileMonitorOptions,
  | 'intake'
  | 'positions'
  | 'labels'
  | 'instance'
  | 'startPosition'
  | 'newFileStartPosition'
  | 'recentBytes'
  | 'rescanIntervalMs'
  | 'pollIntervalMs'
  | 'maxIdlePollIntervalMs'
  | 'watch'
  | 'watchDelayMs'
  | 'readBufferBytes'
  | 'longLinePolicy'
  | 'partialLineFlushMs'
  | 'rotatedFileGraceMs'
  | 'deletedFileGraceMs'
  | 'maxOpenFiles'
  | 'idleCloseMs'
  | 'maxFiles'
  | 'maxBytesPerFilePerTick'
  | 'maxBytesPerTick'
  | 'selfPaths'
  | 'lagMetricTopN'
>;

/**
 * Options of `createKubernetesMonitor`. Every file monitor option it
 * passes through has the file monitor's default and meaning.
 */
export interface KubernetesMonitorOptions
  extends PassedFileOptions, Instrumentation {
  /** Where the kubelet keeps pod logs. @default '/var/log/pods' */
  root?: string;
  /**
   * The kubelet's `/var/log/containers` links, read for the
   * `container_id` label (never read as logs); `false` skips them.
   * @default '/var/log/containers'
   */
  containersDir?: string | false;
  /** Read only these. @default every pod log file */
  include?: KubernetesFilter;
  /** Never read these. @default none */
  exclude?: KubernetesFilter;
  /**
   * Longest message kept, bytes; a message joined from `P` fragments
   * included. Longer ones follow `longLinePolicy`. @default 262_144
   */
  maxLineBytes?: number;
  /**
   * Join messages into multiline records (a preset or a pattern, see
   * `MultilineOptions`), after the CRI `P`/`F` join, stdout and stderr of
   * each file separately. A joined record has its first line's time and
   * labels; its cursor never passes a line still pending on either
   * stream, so a restart (a crash included) reads a half-read record
   * again, whole. Pending records are emitted when the file is finished
   * (rotated away, deleted), or after `flushTimeoutMs` without a next
   * line (never while the file has unread bytes). @default none
   */
  multiline?: MultilineOptions;
  /** Labels or exclusion from elsewhere (the Kubernetes API), per file. @default none */
  metadata?: KubernetesMetadataLookup;
  /** Longest wait for `metadata`, ms. @default 5000 */
  metadataTimeoutMs?: number;
}

/** Options after defaults, validated. */
export interface ResolvedKubernetesOptions {
  readonly root: string;
  readonly containersDir: string | undefined;
  /** The file monitor's include globs (pod log files that pass `include`). */
  readonly includeGlobs: readonly string[];
  /** The file monitor's exclude globs (pod directories, container directories). */
  readonly excludeGlobs: readonly string[];
  readonly maxLineBytes: number;
  readonly labels: Labels;
  readonly instance: string;
  readonly metadataTimeoutMs: number;
  /** Validated. */
  readonly multiline: MultilineOptions | undefined;
}

const DEFAULT_ROOT = '/var/log/pods';
const DEFAULT_CONTAINERS_DIR = '/var/log/containers';
const DEFAULT_MAX_LINE_BYTES = 262_144;
const DEFAULT_METADATA_TIMEOUT_MS = 5000;
const FILTER_KEYS = ['namespaces', 'pods', 'containers'] as const;

function invalid(name: string, expected: string, given: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createKubernetesMonitor: option \`${name}\` must be ${expected}, got ${JSON.stringify(given) ?? String(given)}`,
    details: { option: name },
  });
}

function absoluteDir(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/'))
    throw invalid(name, 'an absolute path', value);
  return resolve(value);
}

/** Each glob of a filter list, checked: no `/` and no `_` (neither is in a name). */
function globs(option: string, list: readonly string[] | undefined): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw invalid(option, 'an array of globs', list);
  for (const g of list) {
    if (typeof g !== 'string' || g === '' || /[/_]/.test(g))
      throw invalid(
        option,
        'name globs without "/" or "_" (namespaces, pods and containers have neither)',
        g,
      );
  }
  return [...list];
}

function alternatives(list: readonly string[]): string {
  if (list.length === 0) return '*';
  return list.length === 1 ? (list[0] as string) : `{${list.join(',')}}`;
}

function filter(
  name: 'include' | 'exclude',
  value: KubernetesFilter | undefined,
): Record<(typeof FILTER_KEYS)[number], string[]> {
  if (value !== undefined && (value === null || typeof value !== 'object'))
    throw invalid(name, 'an object of namespaces, pods, containers', value);
  for (const key of Object.keys(value ?? {}))
    if (!(FILTER_KEYS as readonly string[]).includes(key))
      throw invalid(name, 'an object of namespaces, pods, containers', key);
  return {
    namespaces: globs(`${name}.namespaces`, value?.namespaces),
    pods: globs(`${name}.pods`, value?.pods),
    containers: globs(`${name}.containers`, value?.containers),
  };
}

/**
 * The file globs a Kubernetes source with these `root` and `include`
 * options reads: what to pass to `recordFileWatches` to record since when
 * they are watched before the source starts (an agent does it at process
 * start). Throws `LC_ERR_INVALID_OPTION` like `createKubernetesMonitor`.
 */
export function kubernetesIncludeGlobs(
  options: Pick<KubernetesMonitorOptions, 'root' | 'include'>,
): string[] {
  const root = absoluteDir('root', options.root, DEFAULT_ROOT);
  const inc = filter('include', options.include);
  return [
    `${root}/${alternatives(inc.namespaces)}_${alternatives(inc.pods)}_*/${alternatives(inc.containers)}/*.log`,
  ];
}

/**
 * Apply defaults, validate, and turn the filters into the file monitor's
 * globs over `<root>/<ns>_<pod>_<uid>/<container>/<n>.log`. A name never
 * contains `_`, so each `_` of a pod directory name is matched by the
 * glob's own `_` and each part by its own glob. Throws
 * `LC_ERR_INVALID_OPTION` naming the option.
 */
export function resolveKubernetesOptions(
  options: KubernetesMonitorOptions,
): ResolvedKubernetesOptions {
  if (options === null || typeof options !== 'object')
    throw invalid('options', 'an object', options);
  const root = absoluteDir('root', options.root, DEFAULT_ROOT);
  const containersDir =
    options.containersDir === false
      ? undefined
      : absoluteDir(
          'containersDir',
          options.containersDir,
          DEFAULT_CONTAINERS_DIR,
        );
  const includeGlobs = kubernetesIncludeGlobs(options);
  const exc = filter('exclude', options.exclude);
  const excludeGlobs = [
    ...exc.namespaces.map((g) => `${root}/${g}_*_*`),
    ...exc.pods.map((g) => `${root}/*_${g}_*`),
    ...exc.containers.map((g) => `${root}/*_*_*/${g}`),
  ];
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 16)
    throw invalid('maxLineBytes', 'an integer >= 16', options.maxLineBytes);
  const metadataTimeoutMs =
    options.metadataTimeoutMs ?? DEFAULT_METADATA_TIMEOUT_MS;
  if (!Number.isInteger(metadataTimeoutMs) || metadataTimeoutMs < 0)
    throw invalid(
      'metadataTimeoutMs',
      'an integer >= 0',
      options.metadataTimeoutMs,
    );
  if (options.metadata !== undefined && typeof options.metadata !== 'function')
    throw invalid('metadata', 'a function', typeof options.metadata);
  if (options.multiline !== undefined)
    resolveMultilineOptions(
      options.multiline,
      'multiline',
      'createKubernetesMonitor',
    );
  return {
    root,
    containersDir,
    includeGlobs,
    excludeGlobs,
    maxLineBytes,
    labels: options.labels ?? {},
    instance: options.instance ?? hostname(),
    metadataTimeoutMs,
    multiline: options.multiline,
  };
}
