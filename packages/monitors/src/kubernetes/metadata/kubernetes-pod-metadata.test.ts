// The pod metadata source against an endpoint started in the test that
// speaks the Kubernetes API's list/watch wire format (PodList pages with
// resourceVersion and continue, chunked watch events, bookmarks, ERROR
// events and HTTP 410, Status bodies, bearer tokens), over HTTPS with a
// CA made in the test. No API server can run on these machines, so the
// endpoint stands in for one (see @lc/test-utils kubernetes-test-api).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createTempDir,
  createTestPki,
  startKubernetesTestApi,
} from '@lc/test-utils';
import type {
  KubernetesTestApi,
  TempDir,
  TestPki,
  TestPod,
} from '@lc/test-utils';
import { Registry } from 'prom-client';
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  vi,
} from 'vitest';
import {
  collectingLogger,
  counterValue,
} from '../../../test/kubernetes-harness.js';
import type { KubernetesPodRef } from '../kubernetes-monitor-options.js';
import { createKubernetesPodMetadata } from './kubernetes-pod-metadata.js';
import type {
  KubernetesPodMetadata,
  KubernetesPodMetadataOptions,
} from '../../index.js';

let dir: TempDir;
let pki: TestPki;
let tokenFile: string;
let api: KubernetesTestApi | undefined;
let source: KubernetesPodMetadata | undefined;

beforeAll(async () => {
  dir = await createTempDir('lc-k8s-api-');
  pki = await createTestPki(dir.path);
  tokenFile = join(dir.path, 'token');
});
afterAll(async () => {
  await dir.cleanup();
});
afterEach(async () => {
  await source?.shutdown();
  await api?.close();
  source = undefined;
  api = undefined;
});

const until = (check: () => unknown) =>
  vi.waitFor(
    () => {
      if (!check()) throw new Error('not yet');
    },
    { timeout: 15_000, interval: 10 },
  );

const testPod = (name: string, more: Partial<TestPod> = {}): TestPod => ({
  namespace: 'shop',
  name,
  uid: `uid-${name}`,
  nodeName: 'node-1',
  labels: { app: name },
  ...more,
});

const ref = (p: TestPod): KubernetesPodRef => ({
  namespace: p.namespace,
  pod: p.name,
  podUid: p.uid,
  container: 'app',
  restartCount: 0,
  containerId: undefined,
});

interface Setup {
  readonly registry: Registry;
  readonly logs: Array<{ level: string; obj: unknown; msg: string }>;
  readonly source: KubernetesPodMetadata;
  readonly api: KubernetesTestApi;
}

async function setup(
  pods: readonly TestPod[],
  overrides: Partial<KubernetesPodMetadataOptions> = {},
  token = 'test-token',
): Promise<Setup> {
  await writeFile(tokenFile, `${token}\n`);
  api = await startKubernetesTestApi({
    tls: { cert: pki.server.cert, key: pki.server.key },
    tokens: [token],
  });
  for (const p of pods) api.apply(p);
  const registry = new Registry();
  const logs: Setup['logs'] = [];
  source = createKubernetesPodMetadata({
    apiServer: api.url,
    nodeName: 'node-1',
    tokenFile,
    caFile: pki.ca.certPath,
    minRetryMs: 20,
    maxRetryMs: 100,
    podWaitMs: 500,
    registry,
    logger: collectingLogger(logs),
    ...overrides,
  });
  return { registry, logs, source, api };
}

describe('createKubernetesPodMetadata', () => {
  describe('lookup', () => {
    it("should list this node's pods page by page over TLS with the bearer token, then watch from the list's version with bookmarks", async () => {
      const mine = ['a', 'b', 'c', 'd', 'e'].map((n) => testPod(n));
      const other = testPod('elsewhere', { nodeName: 'node-2' });
      const s = await setup([...mine, other], { pageSize: 2 });
      await s.source.start();
      for (const p of mine)
        expect((await s.source.lookup(ref(p)))?.labels).toEqual({
          node: 'node-1',
          pod_label_app: p.name,
        });
      const lists = s.api.requests.filter((r) => !r.watch);
      expect(
        lists.map((r) => [r.query['limit'], r.query['continue'] ?? '']),
      ).toEqual([
        ['2', ''],
        ['2', '0:2'],
        ['2', '0:4'],
      ]);
      for (const r of s.api.requests) {
        expect(r.authorization).toBe('Bearer test-token');
        expect(r.query['fieldSelector']).toBe('spec.nodeName=node-1');
      }
      const watch = await s.api.waitForRequest((r) => r.watch);
      expect(watch.query).toMatchObject({
        allowWatchBookmarks: 'true',
        resourceVersion: String(s.api.resourceVersion),
      });
      expect(Number(watch.query['timeoutSeconds'])).toBeGreaterThanOrEqual(300);
      // Not this node's: never listed, so unknown.
      expect(await s.source.lookup(ref(other))).toBeUndefined();
      expect(s.source.status()).toMatchObject({
        state: 'ok',
        pods: 5,
        nodeName: 'node-1',
        lastError: undefined,
      });
      expect(await counterValue(s.registry, 'lc_kubernetes_api_up')).toBe(1);
      expect(
        await counterValue(s.registry, 'lc_kubernetes_api_lookups_total', {
          result: 'unknown',
        }),
      ).toBe(1);
    });

    it('should wait for a pod the watch has not delivered yet, and follow MODIFIED and DELETED events', async () => {
      const s = await setup([], { deletedPodRetentionMs: 60_000 });
      await s.source.start();
      await s.api.waitForRequest((r) => r.watch);
      const late = testPod('late', {
        ownerReferences: [{ kind: 'StatefulSet', name: 'late' }],
      });
      const asked = s.source.lookup(ref(late));
      s.api.apply(late);
      expect((await asked)?.labels).toEqual({
        node: 'node-1',
        owner_kind: 'StatefulSet',
        owner_name: 'late',
        pod_label_app: 'late',
      });
      s.api.apply({ ...late, labels: { app: 'renamed' } });
      await until(
        async () =>
          (await s.source.lookup(ref(late)))?.labels?.['pod_label_app'] ===
          'renamed',
      );
      s.api.remove(late.uid);
      await until(() => s.source.status().pods === 0);
      // Deleted, but files found late still get its labels.
      expect(
        (await s.source.lookup(ref(late)))?.labels?.['pod_label_app'],
      ).toBe('renamed');
    });

    it('should answer an excluded pod with exclude and its reason', async () => {
      const quiet = testPod('quiet', {
        annotations: { 'lc.dev/exclude': 'true' },
      });
      const s = await setup([quiet, testPod('loud')]);
      await s.source.start();
      expect(await s.source.lookup(ref(quiet))).toEqual({
        labels: { node: 'node-1', pod_label_app: 'quiet' },
        exclude: true,
        excludeReason: 'annotation lc.dev/exclude: "true"',
      });
      expect(
        (await s.source.lookup(ref(testPod('loud'))))?.exclude,
      ).toBeUndefined();
    });
  });

  describe('watch', () => {
    it('should resume a watch ended by the server from the last bookmark, without listing again', async () => {
      const s = await setup([testPod('a')]);
      await s.source.start();
      await s.api.waitForRequest((r) => r.watch);
      s.api.apply(testPod('b'));
      await until(() => s.source.status().pods === 2);
      s.api.bookmark();
      const bookmarked = String(s.api.resourceVersion);
      await until(() => s.source.status().resourceVersion === bookmarked);
      s.api.endWatches();
      const again = await s.api.waitForRequest(
        (r) => r.watch && r.query['resourceVersion'] === bookmarked,
      );
      expect(again.status).toBe(200);
      expect(s.api.requests.filter((r) => !r.watch)).toHaveLength(1);
      expect(
        await counterValue(s.registry, 'lc_kubernetes_api_watch_events_total', {
          type: 'BOOKMARK',
        }),
      ).toBe(1);
    });

    it('should list again after an ERROR event with a Status 410, and after an HTTP 410', async () => {
      const s = await setup([testPod('a')]);
      await s.source.start();
      await s.api.waitForRequest((r) => r.watch);
      s.api.expireWatches();
      await s.api.waitForRequest(
        (r) => !r.watch && s.api.requests.filter((x) => !x.watch).length === 2,
      );
      await until(() => s.api.openWatches === 1);
      // A version compacted away: the next watch gets HTTP 410.
      s.api.failNext(410);
      s.api.endWatches();
      await until(() => s.api.requests.filter((r) => !r.watch).length === 3);
      // What changed meanwhile is seen through the new list.
      await until(() => s.api.openWatches === 1);
      s.api.apply(testPod('b'));
      await until(() => s.source.status().pods === 2);
      expect(
        await counterValue(s.registry, 'lc_kubernetes_api_relists_total', {
          reason: 'expired',
        }),
      ).toBe(2);
      expect(
        await counterValue(s.registry, 'lc_kubernetes_api_requests_total', {
          verb: 'watch',
          code: '410',
        }),
      ).toBe(1);
      expect(s.source.status().state).toBe('ok');
    });

    it('should list again when a resume version was compacted (ERROR 410 at once)', async () => {
      const s = await setup([testPod('a')]);
      await s.source.start();
      await s.api.waitForRequest((r) => r.watch);
      // Changes while the agent cannot watch, then compacted away.
      s.api.down();
      await until(() => s.source.status().state === 'degraded');
      s.api.apply(testPod('gone-meanwhile'));
      s.api.remove('uid-gone-meanwhile');
      s.api.remove('uid-a');
      s.api.apply(testPod('b'));
      s.api.compact();
      s.api.up();
      await until(() => s.api.requests.filter((r) => !r.watch).length === 2);
      await until(() => s.api.openWatches === 1);
      expect(s.source.status()).toMatchObject({ state: 'ok', pods: 1 });
      expect((await s.source.lookup(ref(testPod('b'))))?.labels).toBeDefined();
      expect(
        await counterValue(s.registry, 'lc_kubernetes_api_watch_events_total', {
          type: 'ERROR',
        }),
      ).toBe(1);
    });

    it('should start the list over when its continue token expired', async () => {
      const s = await setup(
        ['a', 'b', 'c'].map((n) => testPod(n)),
        {
          pageSize: 1,
        },
      );
      s.api.expireContinueTokens();
      await s.source.start();
      await until(() => s.source.status().state === 'ok');
      const lists = s.api.requests.filter((r) => !r.watch);
      expect(lists.map((r) => r.status)).toEqual([200, 410, 200, 200, 200]);
      expect(s.source.status().pods).toBe(3);
    });

    it('should read the token file again after a 401 (a rotated token)', async () => {
      const s = await setup([testPod('a')]);
      await s.source.start();
      await s.api.waitForRequest((r) => r.watch);
      await writeFile(tokenFile, 'rotated-token\n');
      s.api.setTokens(['rotated-token']);
      s.api.endWatches();
      const ok = await s.api.waitForRequest(
        (r) => r.authorization === 'Bearer rotated-token',
      );
      expect(ok.status).toBe(200);
      const before = s.api.requests.indexOf(ok) - 1;
      expect(s.api.requests[before]?.status).toBe(401);
      expect(s.source.status().state).toBe('ok');
    });
  });

  describe('status', () => {
    it('should go degraded while the API is unreachable, answer lookups at once without labels, log rate-limited, and recover', async () => {
      const s = await setup([testPod('a')]);
      await s.source.start();
      await s.api.waitForRequest((r) => r.watch);
      s.api.down();
      await until(() => s.source.status().state === 'degraded');
      // Cached pods still answer; unknown ones do not wait.
      expect((await s.source.lookup(ref(testPod('a'))))?.labels).toBeDefined();
      expect(await s.source.lookup(ref(testPod('new')))).toBeUndefined();
      expect(
        await counterValue(s.registry, 'lc_kubernetes_api_lookups_total', {
          result: 'unavailable',
        }),
      ).toBe(1);
      await until(() => s.source.status().failures >= 5);
      expect(s.source.status().lastError).toMatch(/GET \/api\/v1\/pods/);
      expect(await counterValue(s.registry, 'lc_kubernetes_api_up')).toBe(0);
      const warnings = s.logs.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(/read without pod metadata/);
      s.api.up();
      await until(() => s.source.status().state === 'ok');
      expect(s.logs.some((l) => /reachable again/.test(l.msg))).toBe(true);
      expect(await counterValue(s.registry, 'lc_kubernetes_api_up')).toBe(1);
    });

    it('should not trust a server whose certificate the CA did not sign, and say so', async () => {
      const s = await setup([testPod('a')], { caFile: pki.otherCa.certPath });
      await s.source.start();
      // Lookups at start wait for the first list at most podWaitMs in all.
      expect(await s.source.lookup(ref(testPod('a')))).toBeUndefined();
      await until(() => s.source.status().state === 'degraded');
      expect(s.source.status().lastError).toMatch(
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|self.signed|unable to verify/i,
      );
      expect(s.source.status().pods).toBe(0);
    });

    it('should report a missing token file as the failure', async () => {
      const s = await setup([], { tokenFile: join(dir.path, 'missing') });
      await s.source.start();
      await until(() => s.source.status().state === 'degraded');
      expect(s.source.status().lastError).toMatch(
        /cannot read the service account token .*missing/,
      );
      expect(s.api.requests).toHaveLength(0);
    });
  });

  describe('createKubernetesPodMetadata', () => {
    it('should reject bad options naming them', () => {
      const base = { apiServer: 'https://10.0.0.1:443', nodeName: 'n1' };
      expect(() =>
        createKubernetesPodMetadata({ ...base, apiServer: 'nope' }),
      ).toThrow(/option `apiServer` must be an http\(s\) URL/);
      expect(() =>
        createKubernetesPodMetadata({ ...base, nodeName: '' }),
      ).toThrow(/option `nodeName`/);
      expect(() =>
        createKubernetesPodMetadata({ ...base, tokenFile: 'relative' }),
      ).toThrow(/option `tokenFile` must be an absolute path or false/);
      expect(() =>
        createKubernetesPodMetadata({ ...base, podWaitMs: -1 }),
      ).toThrow(/option `podWaitMs`/);
    });
  });
});
