// The agent with sources.kubernetes over real files in the kubelet layout
// (pod log directories and /var/log/containers links) next to a file
// group whose globs cover both, delivering to a real file sink.
import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  symlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { createAgent } from './create-agent.js';
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
afterEach(async () => {
  await agent?.shutdown();
  await tmp?.cleanup();
  agent = undefined;
  tmp = undefined;
});

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
