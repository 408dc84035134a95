import { execFile } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { createTempDir, serviceEnv, skipWithout } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  eventually,
  readSinkLines,
  release,
  spawnAgent,
} from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const run = promisify(execFile);

describe('lc-agent run → Loki wire format (real process)', () => {
  let tmp: TempDir;
  let loki: LokiTestServer;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    tmp = await createTempDir('lc-agent-loki-');
    loki = await createLokiTestServer();
    await mkdir(join(tmp.path, 'logs'), { recursive: true });
  });

  afterEach(async () => {
    await release(agent, loki, tmp);
  });

  it('should push every line once to Loki, retrying through 5xx answers', async () => {
    await writeFile(
      join(tmp.path, 'agent.yaml'),
      `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sources: {files: [{include: ["${tmp.path}/logs/*.log"], labels: {job: loki-e2e}}]}
dispatcher: {batch_timeout: 100ms}
processing: {pipelines: [{name: default, steps: [{type: level_extract}]}]}
sinks: {loki: [{url: "${loki.url}", tenant_id: team-a}]}
`,
    );
    loki.respondWith(
      { status: 503, body: 'ingester not ready' },
      { status: 500, body: 'boom' },
    );
    const expected = Array.from(
      { length: 400 },
      (_, i) => `${i % 2 === 0 ? 'INFO' : 'ERROR'} loki line ${i}`,
    );
    await appendFile(
      join(tmp.path, 'logs', 'app.log'),
      `${expected.join('\n')}\n`,
    );
    agent = spawnAgent(
      ['run', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
    );
    await agent.apiAddress();
    await eventually(
      async () => loki.entries('team-a').length >= expected.length,
      60_000,
      'lines in Loki',
    );
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const lines = loki.entries('team-a').map((e) => e.line);
    expect(lines.sort()).toEqual([...expected].sort());
    expect(loki.requests.some((r) => r.status >= 500)).toBe(true);
    const streams = [...loki.streams('team-a').keys()];
    expect(
      streams.some(
        (s) => s.includes('level="error"') && s.includes('job="loki-e2e"'),
      ),
    ).toBe(true);
  }, 120_000);
});

describe.skipIf(await skipWithout('docker'))(
  'lc-agent run → Docker container logs (real process)',
  () => {
    it('should capture every line of a busybox container exactly once', async () => {
      const tmp = await createTempDir('lc-agent-docker-');
      const name = `lc-agent-e2e-${process.pid}-${Date.now()}`;
      const testImage = serviceEnv().dockerTestImage;
      await writeFile(
        join(tmp.path, 'agent.yaml'),
        `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sources: {docker: {enabled: true, socket: ${serviceEnv().dockerSocket}, include_names: ["${name}"]}}
dispatcher: {batch_timeout: 100ms}
sinks: {file: [{name: out, directory: ${tmp.path}/out, path_template: "{container_name}.jsonl"}]}
`,
      );
      let agent: AgentProcess | undefined;
      try {
        await run('docker', [
          'run',
          '-d',
          '--name',
          name,
          '--network',
          'none',
          '--label',
          'lc-test=agent-e2e',
          testImage,
          'sh',
          '-c',
          'for i in $(seq 1 300); do echo c-$i; done; sleep 120',
        ]);
        agent = spawnAgent(
          ['run', '--config', join(tmp.path, 'agent.yaml')],
          tmp.path,
        );
        await agent.apiAddress();
        await eventually(
          async () =>
            (await readSinkLines(join(tmp.path, 'out'))).length >= 300,
          60_000,
          '300 container lines',
        );
        agent.child.kill('SIGTERM');
        expect(await agent.exited).toBe(0);
        const lines = await readSinkLines(join(tmp.path, 'out'));
        expect(lines).toEqual(
          Array.from({ length: 300 }, (_, i) => `c-${i + 1}`),
        );
      } finally {
        if (agent !== undefined && agent.child.exitCode === null)
          agent.child.kill('SIGKILL');
        await run('docker', ['rm', '-f', name]).catch(() => undefined);
        await tmp.cleanup();
      }
    }, 120_000);
  },
);
