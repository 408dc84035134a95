import type { Instrumentation } from '@lc/core';
import { LcError } from '@lc/core';

/** The in-cluster service account's files, as the kubelet mounts them in every pod. */
export const SERVICE_ACCOUNT_DIR =
  '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Pod labels kept by default: the recommended `app.kubernetes.io/*`
 * labels that name an application, and the older `app` / `k8s-app`. Few
 * values per workload, so streams stay few.
 */
export const DEFAULT_POD_LABELS: readonly string[] = Object.freeze([
  'app',
  'k8s-app',
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
]);

/** The annotation a pod opts out with (value `"true"`). */
export const DEFAULT_EXCLUDE_ANNOTATION = 'lc.dev/exclude';

/** Options of `createKubernetesPodMetadata`. */
export interface KubernetesPodMetadataOptions extends Instrumentation {
  /**
   * The API server, `https://<host>:<port>` (in a pod:
   * `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`). Required.
   */
  apiServer: string;
  /**
   * This node's name (`spec.nodeName`, from the downward API): only its
   * pods are listed and watched. Required.
   */
  nodeName: string;
  /**
   * Bearer token file, read again every minute and after a 401 (projected
   * tokens rotate); `false` sends none.
   * @default '/var/run/secrets/kubernetes.io/serviceaccount/token'
   */
  tokenFile?: string | false;
  /**
   * The cluster CA (PEM), read for each connection; `false` trusts the
   * system's CAs. HTTPS only.
   * @default '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'
   */
  caFile?: string | false;
  /**
   * Pod label keys kept, as `pod_label_<key>` (other characters than
   * letters, digits and `_` become `_`); `*` matches any run of
   * characters. An allow-list: labels and their values become streams.
   * @default DEFAULT_POD_LABELS
   */
  podLabels?: readonly string[];
  /** Annotation keys kept, as `pod_annotation_<key>`. @default [] */
  podAnnotations?: readonly string[];
  /**
   * A pod whose annotation with this key is `"true"` is not captured at
   * all (decided when each of its log files is first read); `false`:
   * none. @default 'lc.dev/exclude'
   */
  excludeAnnotation?: string | false;
  /**
   * How long the first read of a file waits for its pod to be in the
   * cache (a pod just started may reach the watch after its first log
   * line), ms; at start, how long all files together wait for the first
   * list. Keep it under the monitor's `metadataTimeoutMs`. @default 3000
   */
  podWaitMs?: number;
  /** How long a deleted pod's metadata is kept for files found late, ms. @default 300_000 */
  deletedPodRetentionMs?: number;
  /** Server-side watch timeout (`timeoutSeconds`), ms, jittered up to +20 %. @default 300_000 */
  watchTimeoutMs?: number;
  /** Longest wait for a list answer (and silence past a watch's timeout), ms. @default 30_000 */
  requestTimeoutMs?: number;
  /** Pods per list page (`limit`). @default 500 */
  pageSize?: number;
  /** First retry delay after a failure, ms (doubles, jittered). @default 1000 */
  minRetryMs?: number;
  /** Longest retry delay, ms. @default 30_000 */
  maxRetryMs?: number;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/** Options after defaults, validated. */
export interface ResolvedPodMetadataOptions {
  readonly apiServer: URL;
  readonly nodeName: string;
  readonly tokenFile: string | undefined;
  readonly caFile: string | undefined;
  readonly podLabels: readonly string[];
  readonly podAnnotations: readonly string[];
  readonly excludeAnnotation: string | undefined;
  readonly podWaitMs: number;
  readonly deletedPodRetentionMs: number;
  readonly watchTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly pageSize: number;
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
}

function invalid(name: string, expected: string, given: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createKubernetesPodMetadata: option \`${name}\` must be ${expected}, got ${JSON.stringify(given) ?? String(given)}`,
    details: { option: name },
  });
}

function nonNegativeInt(
  name: string,
  value: number | undefined,
  fallback: number,
  min = 0,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw invalid(name, `an integer >= ${min}`, value);
  return v;
}

function keys(
  name: string,
  value: readonly string[] | undefined,
  fallback: readonly string[],
): string[] {
  const v = value ?? fallback;
  if (!Array.isArray(v) || v.some((k) => typeof k !== 'string' || k === ''))
    throw invalid(name, 'an array of non-empty keys or globs', value);
  return [...v];
}

function file(
  name: string,
  value: string | false | undefined,
  fallback: string,
): string | undefined {
  if (value === false) return undefined;
  const v = value ?? fallback;
  if (typeof v !== 'string' || !v.startsWith('/'))
    throw invalid(name, 'an absolute path or false', value);
  return v;
}

/** Apply defaults and validate; throws `LC_ERR_INVALID_OPTION` naming the option. */
export function resolvePodMetadataOptions(
  o: KubernetesPodMetadataOptions,
): ResolvedPodMetadataOptions {
  if (o === null || typeof o !== 'object')
    throw invalid('options', 'an object', o);
  let apiServer: URL;
  try {
    apiServer = new URL(o.apiServer);
  } catch {
    throw invalid('apiServer', 'an http(s) URL', o.apiServer);
  }
  if (apiServer.protocol !== 'https:' && apiServer.protocol !== 'http:')
    throw invalid('apiServer', 'an http(s) URL', o.apiServer);
  if (
    typeof o.nodeName !== 'string' ||
    !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(o.nodeName)
  )
    throw invalid(
      'nodeName',
      'a node name (the downward API spec.nodeName)',
      o.nodeName,
    );
  const excludeAnnotation =
    o.excludeAnnotation === false
      ? undefined
      : (o.excludeAnnotation ?? DEFAULT_EXCLUDE_ANNOTATION);
  if (
    excludeAnnotation !== undefined &&
    (typeof excludeAnnotation !== 'string' || excludeAnnotation === '')
  )
    throw invalid(
      'excludeAnnotation',
      'an annotation key or false',
      o.excludeAnnotation,
    );
  const minRetryMs = nonNegativeInt('minRetryMs', o.minRetryMs, 1000, 1);
  const maxRetryMs = nonNegativeInt(
    'maxRetryMs',
    o.maxRetryMs,
    30_000,
    minRetryMs,
  );
  return {
    apiServer,
    nodeName: o.nodeName,
    tokenFile: file('tokenFile', o.tokenFile, `${SERVICE_ACCOUNT_DIR}/token`),
    caFile: file('caFile', o.caFile, `${SERVICE_ACCOUNT_DIR}/ca.crt`),
    podLabels: keys('podLabels', o.podLabels, DEFAULT_POD_LABELS),
    podAnnotations: keys('podAnnotations', o.podAnnotations, []),
    excludeAnnotation,
    podWaitMs: nonNegativeInt('podWaitMs', o.podWaitMs, 3000),
    deletedPodRetentionMs: nonNegativeInt(
      'deletedPodRetentionMs',
      o.deletedPodRetentionMs,
      300_000,
    ),
    watchTimeoutMs: nonNegativeInt(
      'watchTimeoutMs',
      o.watchTimeoutMs,
      300_000,
      1000,
    ),
    requestTimeoutMs: nonNegativeInt(
      'requestTimeoutMs',
      o.requestTimeoutMs,
      30_000,
      1,
    ),
    pageSize: nonNegativeInt('pageSize', o.pageSize, 500, 1),
    minRetryMs,
    maxRetryMs,
  };
}
