import type { Labels } from '@lc/core';
import { freezeLabels } from '@lc/core';

/** What the cache keeps of a pod: its labels for records, and whether it opted out. */
export interface PodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Labels added to every record of the pod's log files (frozen, shared). */
  readonly labels: Labels;
  /** The exclude annotation is `"true"`: its logs are not captured. */
  readonly excluded: boolean;
}

/** Which parts of a pod become labels. */
export interface PodInfoRules {
  /** Matchers of pod label keys kept (as `pod_label_<key>`). */
  readonly podLabels: KeyMatcher;
  /** Matchers of annotation keys kept (as `pod_annotation_<key>`). */
  readonly podAnnotations: KeyMatcher;
  /** The annotation whose value `"true"` excludes the pod; undefined: none. */
  readonly excludeAnnotation: string | undefined;
  /** Wall clock, ms (CronJob job names hold their schedule time). */
  readonly nowMs: () => number;
}

/** Whether a label or annotation key is on an allow-list. */
export type KeyMatcher = (key: string) => boolean;

/**
 * An allow-list of keys as globs: `*` matches any run of characters
 * (`/` included: `team.example.com/*`), everything else itself.
 */
export function keyMatcher(globs: readonly string[]): KeyMatcher {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const g of globs) {
    if (!g.includes('*')) exact.add(g);
    else
      patterns.push(
        new RegExp(
          `^${g
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ),
      );
  }
  return (key) => exact.has(key) || patterns.some((p) => p.test(key));
}

/** A label or annotation key as a label name: every other character becomes `_`. */
export function labelName(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_');
}

interface OwnerRef {
  readonly kind?: unknown;
  readonly name?: unknown;
  readonly controller?: unknown;
}

// CronJob jobs are named `<cronjob>-<scheduled time in minutes since the epoch>`.
const CRONJOB_JOB = /^(.+)-(\d{8,10})$/;
const MINUTES_2000 = 15_778_080;

/**
 * The workload that owns a pod, from its controller reference and names
 * alone (no further API request, no extra permission): a ReplicaSet
 * named `<deployment>-<pod-template-hash>` is its Deployment's; a Job
 * named `<cronjob>-<minutes since the epoch>` (within 2000 and tomorrow)
 * is its CronJob's. Others (StatefulSet, DaemonSet, Job, Node for static
 * pods, custom kinds) as they are.
 */
export function podOwner(
  owners: readonly OwnerRef[] | undefined,
  labels: Readonly<Record<string, string>>,
  nowMs: number,
): { kind: string; name: string } | undefined {
  if (!Array.isArray(owners)) return undefined;
  const ref =
    owners.find((o) => o?.controller === true) ??
    (owners.length === 1 ? owners[0] : undefined);
  if (
    ref === undefined ||
    typeof ref.kind !== 'string' ||
    typeof ref.name !== 'string' ||
    ref.kind === '' ||
    ref.name === ''
  )
    return undefined;
  const { kind, name } = ref;
  if (kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash'];
    if (hash !== undefined && hash !== '' && name.endsWith(`-${hash}`))
      return {
        kind: 'Deployment',
        name: name.slice(0, name.length - hash.length - 1),
      };
  }
  if (kind === 'Job') {
    const m = CRONJOB_JOB.exec(name);
    const minutes = Number(m?.[2]);
    if (
      m !== null &&
      minutes >= MINUTES_2000 &&
      minutes <= nowMs / 60_000 + 24 * 60
    )
      return { kind: 'CronJob', name: m[1] as string };
  }
  return { kind, name };
}

function stringRecord(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * What the cache keeps of a `Pod` object (labels on the allow-lists,
 * owner, node, exclusion); undefined when it has no uid. Only these are
 * kept, so a node's cache stays small whatever its pods carry.
 */
export function podInfo(
  object: unknown,
  rules: PodInfoRules,
): PodInfo | undefined {
  if (object === null || typeof object !== 'object') return undefined;
  const o = object as {
    metadata?: {
      uid?: unknown;
      name?: unknown;
      namespace?: unknown;
      labels?: unknown;
      annotations?: unknown;
      ownerReferences?: unknown;
    };
    spec?: { nodeName?: unknown };
  };
  const m = o.metadata;
  if (m === undefined || typeof m.uid !== 'string' || m.uid === '')
    return undefined;
  const podLabelValues = stringRecord(m.labels);
  const annotations = stringRecord(m.annotations);
  const labels: Record<string, string> = {};
  if (typeof o.spec?.nodeName === 'string' && o.spec.nodeName !== '')
    labels['node'] = o.spec.nodeName;
  const owner = podOwner(
    m.ownerReferences as OwnerRef[] | undefined,
    podLabelValues,
    rules.nowMs(),
  );
  if (owner !== undefined) {
    labels['owner_kind'] = owner.kind;
    labels['owner_name'] = owner.name;
  }
  for (const [k, v] of Object.entries(podLabelValues))
    if (rules.podLabels(k)) labels[`pod_label_${labelName(k)}`] = v;
  for (const [k, v] of Object.entries(annotations))
    if (rules.podAnnotations(k)) labels[`pod_annotation_${labelName(k)}`] = v;
  return {
    uid: m.uid,
    namespace: typeof m.namespace === 'string' ? m.namespace : '',
    name: typeof m.name === 'string' ? m.name : '',
    labels: freezeLabels(labels),
    excluded:
      rules.excludeAnnotation !== undefined &&
      annotations[rules.excludeAnnotation]?.trim().toLowerCase() === 'true',
  };
}
