// The Kubernetes source over real files in the kubelet layout (pod log
// directories, /var/log/containers links), read through the real file
// monitor into a collecting intake with a real position manager.
import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  counterValue,
  kubernetesHarness,
} from '../../test/kubernetes-harness.js';
import type { KubernetesHarness } from '../../test/kubernetes-harness.js';
import { nextTime } from '../../test/kubelet-node.js';
import { createCollectingIntake } from '@lc/core/testing';
import { parseCriLine } from './cri-parser.js';
import { createKubernetesMonitor } from './kubernetes-monitor.js';

const range = (from: number, to: number, prefix = 'line'): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);

let h: KubernetesHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createKubernetesMonitor', () => {
  describe('start', () => {
    it('should read pod logs with their own time, stream, pod labels and container id, each line once', async () => {
      h = await kubernetesHarness({ labels: { cluster: 'c1' } });
      const web = h.node.container({
        namespace: 'default',
        pod: 'web-0',
        container: 'app',
        restart: 2,
      });
      web.link();
      web.write(range(0, 3));
      web.write(['oops'], { stream: 'stderr' });
      const db = h.node.container({
        namespace: 'data',
        pod: 'db-0',
        container: 'pg',
      });
      db.write(range(0, 2, 'db'));
      await h.monitor.start();
      await h.intake.waitFor(6);
      await h.monitor.flush();
      expect(h.intake.records).toHaveLength(6);
      const webRecords = h.intake.records.filter(
        (r) => r.labels['pod'] === 'web-0',
      );
      expect(webRecords.map((r) => r.line)).toEqual([...range(0, 3), 'oops']);
      expect(webRecords[0]?.labels).toEqual({
        source: 'kubernetes',
        namespace: 'default',
        pod: 'web-0',
        pod_uid: web.uid,
        container: 'app',
        restart_count: '2',
        container_id: web.containerId,
        cluster: 'c1',
        instance: 'node-1',
        stream: 'stdout',
      });
      expect(webRecords[3]?.labels['stream']).toBe('stderr');
      expect(webRecords[1]?.labels).toBe(webRecords[0]?.labels);
      // The CRI time, nanoseconds included, is the record's time.
      const lines = readFileSync(web.path, 'utf8').split('\n');
      for (const [i, r] of webRecords.entries()) {
        const cri = parseCriLine(lines[i] as string);
        expect([r.timestampMs, r.timestampNanos]).toEqual([
          cri?.timestampMs,
          cri?.timestampNanos,
        ]);
      }
      expect(webRecords[3]?.cursor).toEqual({
        offset: statSync(web.path).size,
        line: 4,
      });
      expect(webRecords[0]?.source.kind).toBe('file');
      // Not linked: no container id label.
      const dbRecord = h.intake.records.find((r) => r.labels['pod'] === 'db-0');
      expect(dbRecord?.labels['container_id']).toBeUndefined();
      expect(dbRecord?.labels['namespace']).toBe('data');
    });

    it('should read only included namespaces, pods and containers, never excluded ones', async () => {
      h = await kubernetesHarness({
        include: { namespaces: ['prod-*', 'web'] },
        exclude: { pods: ['*-canary'], containers: ['istio-proxy'] },
      });
      const write = (namespace: string, pod: string, container: string) =>
        h!.node
          .container({ namespace, pod, container })
          .write([`${namespace}/${pod}/${container}`]);
      write('prod-eu', 'api-1', 'app');
      write('web', 'front-1', 'app');
      write('prod-eu', 'api-canary', 'app');
      write('prod-eu', 'api-2', 'istio-proxy');
      write('kube-system', 'dns-1', 'app');
      await h.monitor.start();
      await h.intake.waitFor(2);
      await h.monitor.flush();
      expect(h.lines().sort()).toEqual([
        'prod-eu/api-1/app',
        'web/front-1/app',
      ]);
    });

    it('should add labels from the metadata lookup, once per file, and read on without them when it fails', async () => {
      const asked: string[] = [];
      h = await kubernetesHarness({
        metadataTimeoutMs: 200,
        metadata: (ref) => {
          asked.push(`${ref.pod}/${ref.container}/${ref.containerId ?? ''}`);
          if (ref.pod === 'slow') return new Promise(() => undefined);
          if (ref.pod === 'broken') throw new Error('api down');
          return Promise.resolve({
            labels: { app: `${ref.pod}-app`, node: 'n1' },
          });
        },
      });
      const good = h.node.container({
        namespace: 'ns',
        pod: 'good',
        container: 'c',
      });
      good.link();
      good.write(['a', 'b']);
      h.node
        .container({ namespace: 'ns', pod: 'slow', container: 'c' })
        .write(['s']);
      h.node
        .container({ namespace: 'ns', pod: 'broken', container: 'c' })
        .write(['x']);
      await h.monitor.start();
      await h.intake.waitFor(4);
      const byPod = (pod: string) =>
        h!.intake.records.filter((r) => r.labels['pod'] === pod);
      expect(byPod('good').map((r) => r.labels['app'])).toEqual([
        'good-app',
        'good-app',
      ]);
      expect(byPod('good')[0]?.labels['node']).toBe('n1');
      expect(byPod('slow')[0]?.labels['app']).toBeUndefined();
      expect(byPod('broken')[0]?.line).toBe('x');
      expect(asked.sort()).toEqual([
        'broken/c/',
        `good/c/${good.containerId}`,
        'slow/c/',
      ]);
      expect(
        await counterValue(h.registry, 'lc_kubernetes_metadata_errors_total'),
      ).toBe(2);
    });
  });

  describe('metadata', () => {
    it('should not capture a file whose lookup excludes it: its lines are dropped, counted, logged once, and its position moves on', async () => {
      h = await kubernetesHarness({
        metadata: (ref) =>
          ref.pod === 'quiet'
            ? {
                exclude: true,
                excludeReason: 'annotation lc.dev/exclude: "true"',
              }
            : { labels: { owner_kind: 'Deployment' } },
      });
      const quiet = h.node.container({
        namespace: 'ns',
        pod: 'quiet',
        container: 'c',
      });
      quiet.write(range(0, 20, 'secret'));
      const loud = h.node.container({
        namespace: 'ns',
        pod: 'loud',
        container: 'c',
      });
      loud.write(range(0, 3));
      await h.monitor.start();
      await h.intake.waitFor(3);
      await h.monitor.flush();
      quiet.write(range(20, 30, 'secret'));
      loud.write(range(3, 4));
      await h.intake.waitFor(4);
      await h.monitor.flush();
      expect(h.lines()).toEqual(range(0, 4));
      expect(h.intake.records[0]?.labels['owner_kind']).toBe('Deployment');
      expect(
        await counterValue(h.registry, 'lc_kubernetes_excluded_lines_total'),
      ).toBe(30);
      expect(
        await counterValue(h.registry, 'lc_kubernetes_excluded_files_total'),
      ).toBe(1);
      expect(
        h.logs.filter((l) => /excluded from capture/.test(l.msg)),
      ).toHaveLength(1);
      // Nothing of it is in flight: its read offset is its position, so a
      // restart does not read it again.
      const id = h.monitor.status().find((f) => f.path === quiet.path)?.id;
      expect(h.positions.get('file', id ?? '')).toMatchObject({
        offset: statSync(quiet.path).size,
      });
      h = await h.restart();
      await h.monitor.start();
      loud.write(range(4, 5));
      await h.intake.waitFor(1);
      await h.monitor.flush();
      expect(h.lines()).toEqual(['line 4']);
      expect(
        await counterValue(h.registry, 'lc_kubernetes_excluded_lines_total'),
      ).toBe(0);
    });
  });

  describe('fragments', () => {
    it('should join P fragments with their F, and read a line cut by a restart mid-fragments whole', async () => {
      h = await kubernetesHarness();
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      const long = 'x'.repeat(100) + 'é'.repeat(50) + 'end';
      c.write(['before', long], { fragmentBytes: 40 });
      await h.monitor.start();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['before', long]);
      expect(
        await counterValue(h.registry, 'lc_kubernetes_joined_lines_total'),
      ).toBe(1);
      // Fragments of a line whose F is not written yet (the writer was
      // killed mid-line, or has not written it yet): nothing of it is
      // emitted, and the committed position stays before them.
      const committedBefore = statSync(c.path).size;
      c.writeRaw(
        `${nextTime()} stdout P ${'y'.repeat(30)}\n${nextTime()} stderr F err\n${nextTime()} stdout P ${'z'.repeat(30)}\n`,
      );
      await h.intake.waitFor(3);
      await h.monitor.flush();
      expect(h.lines()).toEqual(['before', long, 'err']);
      const id = h.intake.records[0]?.source.id as string;
      expect(h.intake.records[2]?.cursor).toEqual({
        offset: committedBefore,
        line: 7,
      });
      h = await h.restart();
      c.writeRaw(`${nextTime()} stdout F !\n`);
      await h.monitor.start();
      await h.intake.waitFor(2);
      await h.monitor.flush();
      // The interleaved stderr line comes again (at most what a held
      // line spans), the joined line once and whole.
      expect(h.lines()).toEqual(['err', `${'y'.repeat(30)}${'z'.repeat(30)}!`]);
      expect(h.positions.get('file', id)).toMatchObject({
        offset: statSync(c.path).size,
      });
    });
  });

  describe('malformed lines', () => {
    it('should pass them through, counted, logged with file and offset, and read on', async () => {
      h = await kubernetesHarness();
      const c = h.node.container({ namespace: 'ns', pod: 'p', container: 'c' });
      const before = c.write(['ok 1']);
      c.writeRaw('this is not CRI\n');
      c.write(['ok 2']);
      await h.monitor.start();
      await h.intake.waitFor(3);
      expect(h.lines()).toEqual(['ok 1', 'this is not CRI', 'ok 2']);
      expect(h.intake.records[1]?.labels['stream']).toBeUndefined();
      expect(
        await counterValue(h.registry, 'lc_kubernetes_malformed_lines_total'),
      ).toBe(1);
      const warn = h.logs.find((l) => l.level === 'warn');
      expect(warn?.obj).toMatchObject({
        path: c.path,
        offset: before,
        line: 'this is not CRI',
      });
    });
  });

  describe('options', () => {
    it('should reject invalid options, naming them', () => {
      const base = {
        intake: createCollectingIntake(),
        positions: {
          get: () => undefined,
          list: () => [],
          upsertFile() {},
          reset() {},
        },
      };
      expect(() =>
        createKubernetesMonitor({ ...base, root: 'relative' }),
      ).toThrow(/`root` must be an absolute path/);
      expect(() =>
        createKubernetesMonitor({ ...base, include: { pods: ['a_b'] } }),
      ).toThrow(/`include.pods`/);
      expect(() =>
        createKubernetesMonitor({
          ...base,
          exclude: { nodes: ['x'] } as never,
        }),
      ).toThrow(/`exclude`/);
      expect(() =>
        createKubernetesMonitor({ ...base, maxLineBytes: 1 }),
      ).toThrow(/`maxLineBytes`/);
      expect(() =>
        createKubernetesMonitor({
          ...base,
          multiline: { preset: 'cobol' as 'java' },
        }),
      ).toThrow(/`multiline.preset`/);
      expect(() =>
        createKubernetesMonitor({
          ...base,
          multiline: { preset: 'java', startPattern: '^x' },
        }),
      ).toThrow(/`multiline`/);
    });
  });
});
