import { existsSync } from 'node:fs';
import type { Instrumentation } from '@lc/core';
import { LcError } from '@lc/core';
import { createKubernetesPodMetadata } from '@lc/monitors';
import type {
  KubernetesPodMetadata,
  KubernetesPodMetadataStatus,
} from '@lc/monitors';
import type { AgentConfig } from '../config/schema.js';
import type { Generation } from './build-pipeline.js';

/** The environment the agent looks at to find the cluster (`process.env` by default). */
export type AgentEnv = Readonly<Record<string, string | undefined>>;

/** The Kubernetes API metadata of a config: running, or off and why. */
export type KubernetesMetadataPlan =
  | { readonly metadata: KubernetesPodMetadata; readonly off?: undefined }
  | { readonly metadata?: undefined; readonly off: string };

/** What `/status` says of the Kubernetes source. */
export interface KubernetesStatus {
  /**
   * `disabled`: no Kubernetes source; `up`: reading (with metadata in sync,
   * or metadata off); `starting`: reading, the first list not in yet;
   * `degraded`: reading, without API metadata (the API fails).
   */
  readonly state: 'disabled' | 'up' | 'starting' | 'degraded';
  /** The API metadata's own status, or why it is off. */
  readonly metadata:
    | KubernetesPodMetadataStatus
    | { readonly state: 'off'; readonly reason: string }
    | undefined;
}

function configError(key: string, message: string): LcError {
  return new LcError({
    code: 'LC_ERR_CONFIG',
    message: `sources.kubernetes.metadata.${key}: ${message}`,
    details: { path: `sources.kubernetes.metadata.${key}` },
  });
}

/** `https://host:port` of the in-cluster service, IPv6 hosts in brackets. */
function serviceUrl(env: AgentEnv): string | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  if (host === undefined || host === '') return undefined;
  const port = env['KUBERNETES_SERVICE_PORT'] || '443';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Decide whether the Kubernetes source gets API metadata and build it
 * (not started). `auto` turns it on in a cluster (the service host in the
 * environment and the service account token mounted) when the node name
 * is known; `true` requires the API server and the node name and throws
 * `LC_ERR_CONFIG` naming the key that is missing.
 */
export function planKubernetesMetadata(
  cfg: AgentConfig,
  env: AgentEnv,
  inst: Instrumentation,
): KubernetesMetadataPlan {
  const k = cfg.sources.kubernetes;
  const m = k.metadata;
  if (m.enabled === false)
    return { off: 'sources.kubernetes.metadata.enabled is false' };
  const apiServer = m.api_server ?? serviceUrl(env);
  const nodeName = m.node_name ?? env['NODE_NAME'];
  if (m.enabled === 'auto') {
    if (m.api_server === undefined && apiServer === undefined)
      return { off: 'not in a cluster (KUBERNETES_SERVICE_HOST is not set)' };
    if (m.api_server === undefined && !existsSync(m.token_file))
      return {
        off: `not in a cluster (no service account token at ${m.token_file})`,
      };
    if (nodeName === undefined || nodeName === '')
      return {
        off: 'the node name is unknown: set NODE_NAME from the downward API (spec.nodeName) or sources.kubernetes.metadata.node_name',
      };
  }
  if (apiServer === undefined)
    throw configError(
      'api_server',
      'required when enabled is true outside a cluster (KUBERNETES_SERVICE_HOST is not set)',
    );
  if (nodeName === undefined || nodeName === '')
    throw configError(
      'node_name',
      'required: set NODE_NAME from the downward API (spec.nodeName), or this key',
    );
  const metadata = createKubernetesPodMetadata({
    ...inst,
    apiServer,
    nodeName,
    tokenFile: m.token_file,
    caFile: m.ca_file,
    podLabels: m.pod_labels,
    podAnnotations: m.pod_annotations,
    excludeAnnotation: m.exclude_annotation,
    podWaitMs: m.pod_wait,
    deletedPodRetentionMs: m.deleted_pod_retention,
    watchTimeoutMs: m.watch_timeout,
    requestTimeoutMs: m.request_timeout,
  });
  return { metadata };
}

/** The `/status` view of a generation's Kubernetes source. */
export function kubernetesStatus(
  g: Pick<Generation, 'kubernetes' | 'kubernetesMetadata'> | undefined,
): KubernetesStatus {
  const plan = g?.kubernetesMetadata;
  if (g?.kubernetes === undefined || plan === undefined)
    return { state: 'disabled', metadata: undefined };
  if (plan.metadata === undefined)
    return { state: 'up', metadata: { state: 'off', reason: plan.off } };
  const st = plan.metadata.status();
  return {
    state:
      st.state === 'degraded'
        ? 'degraded'
        : st.state === 'starting'
          ? 'starting'
          : 'up',
    metadata: st,
  };
}

/**
 * Why the Kubernetes source is degraded (the API fails: records go on
 * without API labels), for `/ready`; undefined when it is not.
 */
export function kubernetesReadiness(k: KubernetesStatus): string | undefined {
  if (k.state !== 'degraded') return undefined;
  const m = k.metadata;
  const why =
    m !== undefined && m.state === 'degraded' ? m.lastError : undefined;
  return `Kubernetes API: ${why ?? 'failing'}; pod logs are read without API labels`;
}
