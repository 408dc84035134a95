// The Docker files mode across SIGKILLs of the built lc-agent binary, with
// the real engine (json-file driver, rotation by max-size/max-file): a
// container writes numbered lines while agents are killed at random
// moments from their spawn and restarted; the last agent must deliver every
// line (lost 0), a line at most once per agent that read it (duplicates
// only from what was in flight at a kill).
import { join } from 'node:path';
import { createTempDir, serviceEnv, skipWithout } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import {
  eventually,
  readSinkLines,
  release,
  spawnBinary,
} from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const env = serviceEnv();
const dockerCli = async (...args: string[]): Promise<string> =>
  (
    await run('docker', args, {
      env: {
        ...process.env,
        DOCKER_HOST: `unix://${env.dockerSocket ?? '/var/run/docker.sock'}`,
      },
    })
  ).stdout.trim();
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: TempDir | undefined;
let agent: AgentProcess | undefined;
const containers: string[] = [];

afterEach(async () => {
  await release(agent);
  agent = undefined;
  await Promise.allSettled(
    containers.splice(0).map((id) => dockerCli('rm', '-f', id)),
  );
  await release(tmp);
  tmp = undefined;
});

describe.skipIf(await skipWithout('docker'))('lc-agent run', () => {
  it('should lose no line of a json-file container read as files across random SIGKILLs', async () => {
    tmp = await createTempDir('lc-agent-docker-kill-');
    const dir = tmp.path;
    const caseId = `lc-kill-${process.pid}-${Date.now()}`;
    await writeFile(
      join(dir, 'agent.yaml'),
      `app: {data_dir: ${dir}/data}
api: {port: 0}
sources:
  docker: {enabled: true, mode: files, include_labels: ["lc-case=${caseId}"]}
dispatcher: {batch_timeout: 50ms}
sinks: {file: [{name: out, directory: ${dir}/out}]}
`,
    );
    const n = 40_000;
    const id = await dockerCli(
      'create',
      '--network',
      'none',
      '--label',
      'lc-test=agent',
      '--label',
      `lc-case=${caseId}`,
      '--log-driver',
      'json-file',
      '--log-opt',
      'max-size=200k',
      // 20 x 200 KB holds the whole output (~2.4 MB of json-file lines), so
      // the engine rotates ~12 times but never deletes a file: a file the
      // engine deletes while no agent runs (a killed agent restarting on a
      // loaded machine) is gone for any reader, and that loss is the
      // engine's log-opt, not the agent's.
      '--log-opt',
      'max-file=20',
      env.dockerTestImage,
      'awk',
      `BEGIN{for(i=0;i<${n};i++){print "k" i; if (i % 400 == 0) system("sleep 0.1")}; print "END"}`,
    );
    containers.push(id);
    const spawn = () =>
      spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);
    // The first agent runs before the container starts; kills are timed
    // from each spawn, whatever the agent is doing then.
    const lifetimes = Array.from(
      { length: 4 },
      () => 800 + Math.floor(Math.random() * 2500),
    );
    let started = false;
    for (const lifetime of lifetimes) {
      agent = spawn();
      if (!started) {
        await agent.apiAddress();
        await dockerCli('start', id);
        started = true;
      }
      await sleep(lifetime);
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    agent = spawn();
    const delivered = () => readSinkLines(join(dir, 'out'));
    await eventually(
      async () => (await delivered()).includes('END'),
      180_000,
      'END delivered',
    );
    const out = await delivered();
    const counts = new Map<string, number>();
    for (const l of out) counts.set(l, (counts.get(l) ?? 0) + 1);
    const lost = Array.from({ length: n }, (_, i) => `k${i}`).filter(
      (l) => !counts.has(l),
    );
    expect(lost).toEqual([]);
    // A line is repeated only by an agent killed before committing it.
    for (const c of counts.values())
      expect(c).toBeLessThanOrEqual(lifetimes.length + 1);
    const duplicates = out.length - counts.size;
    console.log(
      `docker files kill: ${n + 1} lines, ${lifetimes.length} kills, ${duplicates} duplicates`,
    );
  }, 300_000);
});
