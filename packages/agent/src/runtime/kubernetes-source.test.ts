// The agent with sources.kubernetes over real files in the kubelet layout
// (pod log directories and /var/log/containers links) next to a file
// group whose globs cover both, delivering to a real file sink. Pod
// metadata comes from an endpoint started in the test that speaks the
// Kubernetes API's list/watch wire format over HTTPS (no API server can
// run on these machines).
import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import {
  createTempDir,
  createTestPki,
  startKubernetesTestApi,
} from '@lc/test-utils';
import type { KubernetesTestApi, TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { createApiServer } from '../api/create-api-server.js';
import { createAgent } from './create-agent.js';
import type { KubernetesStatus } from './kubernetes-metadata.js';
import type { Agent } from './agent.js';

interface SinkLine {
  readonly timestamp: string;
  readonly line: string;
  readonly labels: Record<string, string>;
}

async function delivered(dir: string): Promise<SinkLine[]> {
  const out: SinkLine[] = [];
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const whole = (await readFile(join(dir, f), 'utf8')).split('\n');
    whole.pop(); // what follows the last newline is not written yet
    for (const l of whole) out.push(JSON.parse(l) as SinkLine);
  }
  return out;
}

const UID = '6b1a3c1e-2f0a-4d55-8e1b-0c9d7f3e2a11';
const CID = 'c0ffee'.padEnd(64, '0');

let tmp: TempDir | undefined;
let agent: Agent | undefined;
let api: KubernetesTestApi | undefined;
afterEach(async () => {
  await agent?.shutdown();
  await api?.close();
  await tmp?.cleanup();
  agent = undefined;
  api = undefined;
  tmp = undefined;
});

/** Wait until the sink holds `n` lines (the agent delivers as it reads). */
async function waitDelivered(dir: string, n: number): Promise<SinkLine[]> {
  const deadline = Date.now() + 30_000;
  let got: SinkLine[] = [];
  while (Date.now() < deadline) {
    got = await delivered(dir);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
}

/** A pod directory with `lines` CRI lines in its container `app`. */
async function podLog(
  root: string,
  pod: string,
  uid: string,
  lines: number,
): Promise<void> {
  const dir = join(root, 'log', 'pods', `shop_${pod}_${uid}`, 'app');
  await mkdir(dir, { recursive: true });
  const cri = Array.from(
    { length: lines },
    (_, i) =>
      `2026-01-01T12:00:00.${String(i).padStart(9, '0')}Z stdout F ${pod} ${i}\n`,
  );
  await appendFile(join(dir, '0.log'), cri.join(''));
}

function metadataConfig(root: string, apiServer: string): string {
  return `app: {data_dir: ${root}/data}
api: {enabled: false}
sources:
  kubernetes:
    enabled: true
    root: ${root}/log/pods
    containers_dir: false
    metadata:
      enabled: true
      api_server: ${apiServer}
      node_name: node-1
      token_file: ${root}/token
      ca_file: ${root}/pki/ca.pem
      pod_annotations: [team.example.com/owner]
      pod_wait: 2s
      request_timeout: 2s
dispatcher: {batch_timeout: 20ms}
sinks:
  file: [{name: out, directory: ${root}/out, path_template: "{source_kind}.jsonl"}]
`;
}

describe('createAgent', () => {
  describe('sources.kubernetes', () => {
    it('should read each pod log line once, with pod labels, although a file group covers the pod and link directories', async () => {
      tmp = await createTempDir('lc-agent-k8s-');
      const root = tmp.path;
      const podDir = join(root, 'log', 'pods', `shop_cart-7f9_${UID}`, 'app');
      await mkdir(podDir, { recursive: true });
      await mkdir(join(root, 'log', 'containers'), { recursive: true });
      await mkdir(join(root, 'log', 'plain'), { recursive: true });
      const live = join(podDir, '0.log');
      const cri: string[] = [];
      for (let i = 0; i < 50; i++)
        cri.push(
          `2026-01-01T12:00:00.${String(i).padStart(9, '0')}Z ${i % 5 === 0 ? 'stderr' : 'stdout'} F pod line ${i}\n`,
        );
      await appendFile(live, cri.join(''));
      await symlink(
        live,
        join(root, 'log', 'containers', `cart-7f9_shop_app-${CID}.log`),
      );
      await appendFile(join(root, 'log', 'plain', 'app.log'), 'plain line\n');
      const config = unwrapConfig(
        parseConfig(
          `app: {data_dir: ${root}/data}
api: {enabled: false}
sources:
  files: [{include: ["${root}/log/**/*.log"]}]
  kubernetes:
    enabled: true
    root: ${root}/log/pods
    containers_dir: ${root}/log/containers
    labels: {cluster: test}
dispatcher: {batch_timeout: 20ms}
sinks:
  file: [{name: out, directory: ${root}/out, path_template: "{source_kind}.jsonl"}]
`,
          { env: {} },
        ),
      );
      agent = createAgent({ config });
      await agent.start();
      const deadline = Date.now() + 30_000;
      let got: SinkLine[] = [];
      while (Date.now() < deadline) {
        got = await delivered(join(root, 'out'));
        if (got.length >= 51) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Nothing more arrives: the link and the pod directory are not read again.
      await agent.shutdown();
      got = await delivered(join(root, 'out'));
      expect(got.map((l) => l.line).sort()).toEqual(
        [
          ...Array.from({ length: 50 }, (_, i) => `pod line ${i}`),
          'plain line',
        ].sort(),
      );
      const first = got.find((l) => l.line === 'pod line 0');
      expect(first?.labels).toMatchObject({
        source: 'kubernetes',
        namespace: 'shop',
        pod: 'cart-7f9',
        pod_uid: UID,
        container: 'app',
        restart_count: '0',
        container_id: CID,
        stream: 'stderr',
        cluster: 'test',
      });
      expect(first?.timestamp).toBe('2026-01-01T12:00:00.000000000Z');
      expect(got.find((l) => l.line === 'pod line 7')?.timestamp).toBe(
        '2026-01-01T12:00:00.000000007Z',
      );
      // One identity per file, the pod log under its own path (not the link).
      expect(
        agent
          .status()
          .files.map((f) => f.path)
          .sort(),
      ).toEqual([join(root, 'log', 'plain', 'app.log'), live]);
    });

    it('should label records with the pod metadata of the Kubernetes API and leave out an excluded pod', async () => {
      tmp = await createTempDir('lc-agent-k8s-api-');
      const root = tmp.path;
      await mkdir(join(root, 'pki'));
      const pki = await createTestPki(join(root, 'pki'));
      await writeFile(join(root, 'token'), 'agent-token\n');
      api = await startKubernetesTestApi({
        tls: { cert: pki.server.cert, key: pki.server.key },
        tokens: ['agent-token'],
      });
      api.apply({
        namespace: 'shop',
        name: 'cart-7f9c-x2',
        uid: UID,
        nodeName: 'node-1',
        labels: { app: 'cart', 'pod-template-hash': '7f9c' },
        annotations: { 'team.example.com/owner': 'payments' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-7f9c' }],
      });
      api.apply({
        namespace: 'shop',
        name: 'noisy',
        uid: 'noisy-uid',
        nodeName: 'node-1',
        annotations: { 'lc.dev/exclude': 'true' },
      });
      await podLog(root, 'cart-7f9c-x2', UID, 20);
      await podLog(root, 'noisy', 'noisy-uid', 50);
      agent = createAgent({
        config: unwrapConfig(
          parseConfig(metadataConfig(root, api.url), { env: {} }),
        ),
        env: {},
      });
      await agent.start();
      const got = await waitDelivered(join(root, 'out'), 20);
      await agent.shutdown();
      expect(got.map((l) => l.line)).toEqual(
        Array.from({ length: 20 }, (_, i) => `cart-7f9c-x2 ${i}`),
      );
      expect(got[0]?.labels).toMatchObject({
        namespace: 'shop',
        pod: 'cart-7f9c-x2',
        node: 'node-1',
        owner_kind: 'Deployment',
        owner_name: 'cart',
        pod_label_app: 'cart',
        pod_annotation_team_example_com_owner: 'payments',
      });
      expect(
        await agent.registry
          .getSingleMetric('lc_kubernetes_excluded_lines_total')
          ?.get(),
      ).toMatchObject({ values: [{ value: 50 }] });
      expect(
        api.requests.every(
          (r) =>
            r.authorization === 'Bearer agent-token' &&
            r.query['fieldSelector'] === 'spec.nodeName=node-1',
        ),
      ).toBe(true);
    });

    it('should deliver pod logs without API labels while the API is down, and say degraded in /status', async () => {
      tmp = await createTempDir('lc-agent-k8s-down-');
      const root = tmp.path;
      await mkdir(join(root, 'pki'));
      await createTestPki(join(root, 'pki'));
      await writeFile(join(root, 'token'), 'agent-token\n');
      // An API server that answers nothing: started, then closed.
      const gone = await startKubernetesTestApi();
      await gone.close();
      await podLog(root, 'cart-7f9c-x2', UID, 10);
      agent = createAgent({
        config: unwrapConfig(
          parseConfig(metadataConfig(root, gone.url), { env: {} }),
        ),
        env: {},
      });
      await agent.start();
      const got = await waitDelivered(join(root, 'out'), 10);
      expect(got.map((l) => l.line)).toEqual(
        Array.from({ length: 10 }, (_, i) => `cart-7f9c-x2 ${i}`),
      );
      expect(got[0]?.labels['owner_kind']).toBeUndefined();
      expect(got[0]?.labels['pod']).toBe('cart-7f9c-x2');
      // The first list failed before the first read ended its wait.
      const server = createApiServer({ agent, version: 'test' });
      const res = await server.inject({ url: '/status' });
      await server.close();
      const status = (res.json() as { kubernetes: KubernetesStatus })
        .kubernetes;
      expect(status.state).toBe('degraded');
      expect(status.metadata).toMatchObject({
        state: 'degraded',
        nodeName: 'node-1',
        lastError: expect.stringMatching(/ECONNREFUSED/),
      });
      const ready = agent.readiness();
      expect(ready.ready).toBe(true);
      expect(ready.status).toBe('degraded');
      expect(ready.components.sources).toMatchObject({
        state: 'degraded',
        kubernetes: true,
        reason: expect.stringMatching(/^Kubernetes API: .*ECONNREFUSED/),
      });
    });

    it('should reject name globs with "/" or "_", naming the key', () => {
      const result = parseConfig(
        'sources: {kubernetes: {enabled: true, include: {pods: ["a_b"]}}}\nsinks: {stdout: [{}]}\n',
        { env: {} },
      );
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
        'sources.kubernetes.include.pods[0]: expected a name glob without "/" or "_" (Kubernetes names have neither)',
      ]);
    });
  });
});
