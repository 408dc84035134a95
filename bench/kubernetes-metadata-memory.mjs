// Memory of the Kubernetes pod metadata client (docs/decisions/
// 2026-12-07-kubernetes-api-client.md): heap and RSS after gc() of a fresh
// process, before and after loading the client, and after it listed and
// watches N pods of one node served by the test endpoint of
// @lc/test-utils (each pod with six labels, three annotations including a
// 2 KB last-applied-configuration, an owner). Both run from esbuild
// bundles of the sources. With LC_BENCH_CLIENT_NODE=<dir holding
// node_modules/@kubernetes/client-node> the official client's informer is
// measured in the same way (install it there with npm first).
//
//   node bench/kubernetes-metadata-memory.mjs            110 and 500 pods
//   LC_BENCH_PODS=2000 node bench/kubernetes-metadata-memory.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODS = (process.env.LC_BENCH_PODS ?? '110,500').split(',').map(Number);
const CLIENT_NODE = process.env.LC_BENCH_CLIENT_NODE;
const dir = mkdtempSync(join(tmpdir(), 'lc-bench-k8s-'));
const esbuild = createRequire(
  join(root, 'node_modules/.pnpm/node_modules/tsup/package.json'),
).resolve('esbuild/bin/esbuild');

function bundle(entry, out) {
  execFileSync(esbuild, [
    join(root, entry),
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--conditions=@lc/source',
    '--external:prom-client',
    `--outfile=${join(dir, out)}`,
    '--log-level=warning',
  ]);
}
bundle(
  'packages/monitors/src/kubernetes/metadata/kubernetes-pod-metadata.ts',
  'ours.mjs',
);
bundle('packages/test-utils/src/kubernetes-test-api.ts', 'api.mjs');
// prom-client as the agent has it (the bundle leaves it external).
mkdirSync(join(dir, 'node_modules'));
symlinkSync(
  dirname(
    createRequire(join(root, 'packages/monitors/package.json')).resolve(
      'prom-client/package.json',
    ),
  ),
  join(dir, 'node_modules/prom-client'),
);

writeFileSync(
  join(dir, 'server.mjs'),
  `import { startKubernetesTestApi } from './api.mjs';
const api = await startKubernetesTestApi({ tokens: ['t'] });
const big = JSON.stringify({ kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/team/app:1.2.3', env: Array.from({ length: 20 }, (_, i) => ({ name: 'VAR_' + i, value: 'x'.repeat(40) })) }] } } } });
for (let i = 0; i < Number(process.argv[2]); i++)
  api.apply({ namespace: 'ns-' + (i % 7), name: 'app-' + i + '-7f9c-x', uid: 'uid-' + i, nodeName: 'node-1',
    labels: { app: 'app-' + i, 'app.kubernetes.io/name': 'app-' + i, 'app.kubernetes.io/instance': 'prod', 'pod-template-hash': '7f9c', team: 'payments', tier: 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': big, 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'app-' + i + '-7f9c' }] });
console.log(api.url);
setInterval(() => {}, 1 << 30);
`,
);
writeFileSync(join(dir, 'token'), 't');
writeFileSync(
  join(dir, 'measure.mjs'),
  `const [what, url, clientNode] = process.argv.slice(2);
const snap = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss, heap: m.heapUsed }; };
const base = snap();
let loaded, pods = 0;
const t0 = performance.now();
if (what === 'lc') {
  const { createKubernetesPodMetadata } = await import('./ours.mjs');
  loaded = snap();
  const s = createKubernetesPodMetadata({ apiServer: url, nodeName: 'node-1', tokenFile: '${join(dir, 'token')}', caFile: false });
  await s.start();
  while (s.status().state !== 'ok') await new Promise((r) => setTimeout(r, 20));
  pods = s.status().pods; globalThis.keep = s;
} else {
  const { createRequire } = await import('node:module');
  const k8s = await import(createRequire(clientNode + '/').resolve('@kubernetes/client-node'));
  const kc = new k8s.KubeConfig();
  kc.loadFromClusterAndUser({ name: 'c', server: url, skipTLSVerify: true }, { name: 'u', token: 't' });
  loaded = snap();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const inf = k8s.makeInformer(kc, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1', () => api.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' }));
  await inf.start();
  while (inf.list().length === 0) await new Promise((r) => setTimeout(r, 20));
  pods = inf.list().length; globalThis.keep = inf;
}
await new Promise((r) => setTimeout(r, 500));
const end = snap();
const mib = (x) => (x / 1048576).toFixed(1);
console.log(JSON.stringify({ pods, loadHeapMiB: mib(loaded.heap - base.heap), loadRssMiB: mib(loaded.rss - base.rss), heapMiB: mib(end.heap - base.heap), rssMiB: mib(end.rss - base.rss), ms: Math.round(performance.now() - t0) }));
process.exit(0);
`,
);

console.log(
  'client | pods | heap after load MiB | RSS after load MiB | heap after sync MiB | RSS after sync MiB',
);
console.log('--- | --- | --- | --- | --- | ---');
try {
  for (const n of PODS) {
    const server = spawn(
      process.execPath,
      [join(dir, 'server.mjs'), String(n)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const url = await new Promise((resolve) =>
      server.stdout.once('data', (d) => resolve(String(d).trim())),
    );
    const clients = CLIENT_NODE === undefined ? ['lc'] : ['lc', 'client-node'];
    for (const what of clients) {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', join(dir, 'measure.mjs'), what, url, CLIENT_NODE ?? ''],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) {
        server.kill();
        throw new Error(`${what}: ${r.stderr}`);
      }
      const m = JSON.parse(r.stdout.trim().split('\n').pop());
      console.log(
        `${what} | ${m.pods} | ${m.loadHeapMiB} | ${m.loadRssMiB} | ${m.heapMiB} | ${m.rssMiB}`,
      );
    }
    server.kill();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
