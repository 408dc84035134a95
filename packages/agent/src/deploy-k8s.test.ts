// deploy/k8s rendered by `kubectl kustomize` (what `kubectl apply -k`
// applies) and checked offline: every object against the Kubernetes
// OpenAPI schemas compiled into kubernetes-models (types, required
// fields, enums), strictly (unknown fields are type errors of the models'
// own declarations, checked by the TypeScript compiler), and for what
// the DaemonSet must do on a containerd node. No cluster is involved.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { formatConfigIssues, parseConfig } from './config/load-config.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const base = join(here, '../../../deploy/k8s');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** The models by `apiVersion/kind`, and the module of each one's declaration. */
const MODELS: Record<
  string,
  { validate: (o: K8sObject) => void; module: string; type: string }
> = {
  'v1/Namespace': {
    validate: (o) => new Namespace(o as never).validate(),
    module: 'kubernetes-models/v1/Namespace',
    type: 'INamespace',
  },
  'v1/ConfigMap': {
    validate: (o) => new ConfigMap(o as never).validate(),
    module: 'kubernetes-models/v1/ConfigMap',
    type: 'IConfigMap',
  },
  'v1/Secret': {
    validate: (o) => new Secret(o as never).validate(),
    module: 'kubernetes-models/v1/Secret',
    type: 'ISecret',
  },
  'v1/ServiceAccount': {
    validate: (o) => new ServiceAccount(o as never).validate(),
    module: 'kubernetes-models/v1/ServiceAccount',
    type: 'IServiceAccount',
  },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    validate: (o) => new ClusterRole(o as never).validate(),
    module: 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole',
    type: 'IClusterRole',
  },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    validate: (o) => new ClusterRoleBinding(o as never).validate(),
    module: 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding',
    type: 'IClusterRoleBinding',
  },
  'apps/v1/DaemonSet': {
    validate: (o) => new DaemonSet(o as never).validate(),
    module: 'kubernetes-models/apps/v1/DaemonSet',
    type: 'IDaemonSet',
  },
};

/**
 * Type-check each object as a literal of its model's declared type:
 * TypeScript's excess property check names every unknown field (what
 * `kubectl apply --validate=strict` would refuse), at any depth.
 */
function strictFieldErrors(objects: readonly K8sObject[]): string[] {
  const file = join(here, '__deploy_k8s_check__.ts');
  const lines: string[] = [];
  objects.forEach((o, i) => {
    const m = MODELS[`${o.apiVersion}/${o.kind}`];
    if (m === undefined) return;
    lines.push(
      `import type { ${m.type} as T${i} } from '${m.module}';`,
      `export const o${i}: T${i} = ${JSON.stringify(o)};`,
    );
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === file ? source : readFile(f));
  host.fileExists = (f) => f === file || fileExists(f);
  host.getSourceFile = (f, v, ...rest) =>
    f === file
      ? ts.createSourceFile(f, source, v)
      : getSourceFile(f, v, ...rest);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

async function render(): Promise<string> {
  try {
    const { stdout } = await run('kubectl', ['kustomize', base], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(
        'kubectl is not installed: it renders deploy/k8s (apt-get install kubernetes-client; .ci/run does)',
        { cause: error },
      );
    throw new Error(`kubectl kustomize ${base}: ${e.stderr ?? e.message}`, {
      cause: error,
    });
  }
}

let objects: K8sObject[] = [];
const byKind = (kind: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind);
  if (o === undefined) throw new Error(`no ${kind} in deploy/k8s`);
  return o;
};

beforeAll(async () => {
  objects = parseAllDocuments(await render()).map(
    (d) => d.toJSON() as K8sObject,
  );
}, 60_000);

describe('deploy/k8s', () => {
  it('should render to objects that the Kubernetes schemas accept, with no unknown field', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'DaemonSet',
      'Namespace',
      'Secret',
      'ServiceAccount',
    ]);
    for (const o of objects) {
      const model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(model, `${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(
        () => model?.validate(o),
        `${o.kind} ${o.metadata.name}`,
      ).not.toThrow();
      if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster'))
        expect(o.metadata.namespace, o.kind).toBe('lc');
    }
    expect(strictFieldErrors(objects)).toEqual([]);
  });

  it('should catch an unknown field and a wrong type (the checks can fail)', () => {
    const ds = structuredClone(byKind('DaemonSet')) as {
      spec: { template: { spec: Record<string, unknown> } };
    } & K8sObject;
    ds.spec.template.spec['tolerationz'] = [];
    expect(strictFieldErrors([ds]).join('\n')).toMatch(/tolerationz/);
    ds.spec.template.spec['tolerationz'] = undefined;
    delete ds.spec.template.spec['tolerationz'];
    ds.spec.template.spec['terminationGracePeriodSeconds'] = 'forty';
    expect(() => MODELS['apps/v1/DaemonSet']?.validate(ds)).toThrow(
      /terminationGracePeriodSeconds/,
    );
  });

  it('should run one agent per node reading the pod logs read-only, with its node name and no Docker socket', () => {
    const ds = byKind('DaemonSet') as unknown as {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            tolerations: unknown[];
            containers: Array<{
              env: Array<{ name: string; valueFrom?: unknown }>;
              volumeMounts: Array<{
                name: string;
                mountPath: string;
                readOnly?: boolean;
              }>;
              resources: { requests: Record<string, string> };
            }>;
            volumes: Array<{
              name: string;
              hostPath?: { path: string };
              configMap?: { name: string };
            }>;
          };
        };
      };
    };
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(c?.env).toContainEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    const mount = (path: string) =>
      c?.volumeMounts.find((m) => m.mountPath === path);
    expect(mount('/var/log/pods')?.readOnly).toBe(true);
    expect(mount('/var/log/containers')?.readOnly).toBe(true);
    expect(mount('/var/lib/lc-agent')?.readOnly).toBeUndefined();
    const hostPaths = pod.volumes.flatMap((v) =>
      v.hostPath === undefined ? [] : [v.hostPath.path],
    );
    expect(hostPaths.sort()).toEqual([
      '/var/lib/lc-agent',
      '/var/log/containers',
      '/var/log/pods',
    ]);
    expect(JSON.stringify(ds)).not.toMatch(/docker\.sock/);
    expect(c?.resources.requests).toEqual({ cpu: '250m', memory: '256Mi' });
    // The generated ConfigMap (hash-suffixed) is the one mounted.
    const cm = byKind('ConfigMap');
    expect(pod.volumes.find((v) => v.configMap)?.configMap?.name).toBe(
      cm.metadata.name,
    );
    expect(pod.serviceAccountName).toBe(byKind('ServiceAccount').metadata.name);
  });

  it('should grant only get, list and watch on pods, to the agent service account', () => {
    expect(byKind('ClusterRole')['rules']).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(byKind('ClusterRoleBinding')['subjects']).toEqual([
      { kind: 'ServiceAccount', name: 'lc-agent', namespace: 'lc' },
    ]);
  });

  it('should carry an agent config that validates and reads pod logs with API metadata', () => {
    const text = (byKind('ConfigMap')['data'] as Record<string, string>)[
      'agent.yaml'
    ];
    expect(text).toBe(readFileSync(join(base, 'agent.yaml'), 'utf8'));
    const result = parseConfig(text ?? '', {
      env: { LC_API_TOKEN: 't', NODE_NAME: 'node-1' },
    });
    expect(result.ok ? '' : formatConfigIssues(result.issues)).toBe('');
    if (!result.ok) return;
    const k = result.config.sources.kubernetes;
    expect(k.enabled).toBe(true);
    expect(k.metadata.enabled).toBe('auto');
    expect(k.labels).toEqual({ instance: 'node-1', node: 'node-1' });
    expect(result.config.sources.docker.enabled).toBe(false);
  });
});
