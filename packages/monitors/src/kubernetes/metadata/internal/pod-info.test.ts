import { describe, expect, it } from 'vitest';
import { keyMatcher, labelName, podInfo, podOwner } from './pod-info.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const rules = {
  podLabels: keyMatcher(['app', 'app.kubernetes.io/*']),
  podAnnotations: keyMatcher(['team.example.com/owner']),
  excludeAnnotation: 'lc.dev/exclude',
  nowMs: () => NOW,
};

const pod = (meta: Record<string, unknown>, nodeName = 'n1'): unknown => ({
  kind: 'Pod',
  metadata: { uid: 'u1', name: 'p', namespace: 'ns', ...meta },
  spec: { nodeName },
});

describe('podOwner', () => {
  it('should name the Deployment of a ReplicaSet named <deployment>-<pod-template-hash>', () => {
    expect(
      podOwner(
        [{ kind: 'ReplicaSet', name: 'web-7d4b9c8f6', controller: true }],
        { 'pod-template-hash': '7d4b9c8f6' },
        NOW,
      ),
    ).toEqual({ kind: 'Deployment', name: 'web' });
  });

  it('should keep a ReplicaSet whose name does not end with the pod-template-hash', () => {
    expect(
      podOwner(
        [{ kind: 'ReplicaSet', name: 'bare', controller: true }],
        {},
        NOW,
      ),
    ).toEqual({ kind: 'ReplicaSet', name: 'bare' });
  });

  it('should name the CronJob of a Job named <cronjob>-<minutes since the epoch>', () => {
    const minutes = Math.floor(NOW / 60_000) - 5;
    expect(
      podOwner(
        [{ kind: 'Job', name: `backup-${minutes}`, controller: true }],
        {},
        NOW,
      ),
    ).toEqual({ kind: 'CronJob', name: 'backup' });
    // Digits that are no plausible schedule time: a Job.
    expect(
      podOwner(
        [{ kind: 'Job', name: 'migrate-12345678', controller: true }],
        {},
        NOW,
      ),
    ).toEqual({ kind: 'Job', name: 'migrate-12345678' });
    expect(
      podOwner([{ kind: 'Job', name: 'migrate', controller: true }], {}, NOW),
    ).toEqual({ kind: 'Job', name: 'migrate' });
  });

  it('should take StatefulSet, DaemonSet, Node and custom kinds as they are, the controller first', () => {
    for (const kind of ['StatefulSet', 'DaemonSet', 'Node', 'Rollout'])
      expect(
        podOwner([{ kind, name: 'x', controller: true }], {}, NOW),
      ).toEqual({
        kind,
        name: 'x',
      });
    expect(
      podOwner(
        [
          { kind: 'ConfigMap', name: 'not-me' },
          { kind: 'StatefulSet', name: 'db', controller: true },
        ],
        {},
        NOW,
      ),
    ).toEqual({ kind: 'StatefulSet', name: 'db' });
  });

  it('should give nothing for a pod without an owner or with malformed references', () => {
    expect(podOwner(undefined, {}, NOW)).toBeUndefined();
    expect(podOwner([], {}, NOW)).toBeUndefined();
    expect(podOwner([{ kind: 3, name: 'x' }], {}, NOW)).toBeUndefined();
    expect(
      podOwner(
        [
          { kind: 'A', name: 'a' },
          { kind: 'B', name: 'b' },
        ],
        {},
        NOW,
      ),
    ).toBeUndefined();
  });
});

describe('podInfo', () => {
  it('should keep the node, owner, and only allow-listed labels and annotations, as label names', () => {
    const info = podInfo(
      pod({
        labels: {
          app: 'web',
          'app.kubernetes.io/name': 'shop',
          'pod-template-hash': '5f7c9',
          'rollouts-pod-template-hash': 'zzz',
        },
        annotations: {
          'team.example.com/owner': 'payments',
          'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}',
        },
        ownerReferences: [
          { kind: 'ReplicaSet', name: 'web-5f7c9', controller: true },
        ],
      }),
      rules,
    );
    expect(info).toEqual({
      uid: 'u1',
      namespace: 'ns',
      name: 'p',
      excluded: false,
      labels: {
        node: 'n1',
        owner_kind: 'Deployment',
        owner_name: 'web',
        pod_label_app: 'web',
        pod_label_app_kubernetes_io_name: 'shop',
        pod_annotation_team_example_com_owner: 'payments',
      },
    });
    expect(Object.isFrozen(info?.labels)).toBe(true);
  });

  it('should exclude a pod whose exclude annotation is "true" (any case), and only then', () => {
    const ann = (v: string) =>
      podInfo(pod({ annotations: { 'lc.dev/exclude': v } }), rules)?.excluded;
    expect(ann('true')).toBe(true);
    expect(ann(' True ')).toBe(true);
    expect(ann('false')).toBe(false);
    expect(ann('yes')).toBe(false);
    expect(
      podInfo(pod({ annotations: { 'lc.dev/exclude': 'true' } }), {
        ...rules,
        excludeAnnotation: undefined,
      })?.excluded,
    ).toBe(false);
  });

  it('should skip objects without a uid and ignore non-string values', () => {
    expect(podInfo({ metadata: {} }, rules)).toBeUndefined();
    expect(podInfo(null, rules)).toBeUndefined();
    expect(
      podInfo(pod({ labels: { app: 7 }, annotations: 'x' }, ''), rules)?.labels,
    ).toEqual({});
  });
});

describe('labelName', () => {
  it('should turn every character other than letters, digits and _ into _', () => {
    expect(labelName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
    expect(labelName('a-b_c9')).toBe('a_b_c9');
  });
});

describe('keyMatcher', () => {
  it('should match exact keys and * globs across /', () => {
    const m = keyMatcher(['app', 'team.example.com/*', '*-tier']);
    expect(['app', 'team.example.com/owner', 'web-tier'].every(m)).toBe(true);
    expect(
      ['apps', 'team.example.com', 'tier', 'team.exampleXcom/a'].some(m),
    ).toBe(false);
  });
});
