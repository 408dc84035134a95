// One agent per data directory: real `lc-agent run` processes (the built
// binary) on one data_dir; a second start is refused while the first runs,
// and a lock left by a SIGKILL is taken over.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnBinary } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const running: AgentProcess[] = [];
let tmp: TempDir | undefined;
afterEach(async () => {
  for (const a of running.splice(0))
    if (a.child.exitCode === null && a.child.signalCode === null) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  await tmp?.cleanup();
  tmp = undefined;
});

async function setup(withFiles: boolean): Promise<string> {
  tmp = await createTempDir('lc-agent-lock-');
  await mkdir(join(tmp.path, 'logs'), { recursive: true });
  const config = join(tmp.path, 'agent.yaml');
  await writeFile(
    config,
    `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
${withFiles ? `sources: {files: [{include: ["${tmp.path}/logs/*.log"]}]}` : 'sources: {http: {enabled: true}}'}
sinks: {file: [{name: out, directory: ${tmp.path}/out}]}
`,
  );
  return config;
}

function start(config: string): AgentProcess {
  const a = spawnBinary(['run', '--config', config], tmp?.path as string);
  running.push(a);
  return a;
}

describe('lc-agent run: the data directory lock', () => {
  it.each([
    ['with file sources (taken at process start)', true],
    ['without file sources (taken after validation)', false],
  ])(
    'should refuse a second agent on the same data_dir %s, naming the holder, and take over a lock left by SIGKILL',
    async (_name, withFiles) => {
      const config = await setup(withFiles);
      const lock = join(tmp?.path as string, 'data', 'lc-agent.lock');
      const first = start(config);
      await first.apiAddress();
      expect(existsSync(lock)).toBe(true);

      const second = start(config);
      expect(await second.exited).toBe(2);
      expect(second.stderr()).toContain(
        `is in use by another lc-agent (pid ${first.child.pid}`,
      );
      expect(second.stderr()).toContain('app.data_dir');
      // The refused start touched nothing: the first still runs.
      expect(first.child.exitCode).toBeNull();
      // Commands that write the DLQ refuse too, pointing to the API.
      const purge = spawnBinary(
        ['dlq', 'purge', '--config', config, '--yes'],
        tmp?.path as string,
      );
      expect(await purge.exited).toBe(2);
      expect(purge.stderr()).toContain('POST /dlq/replay');

      first.child.kill('SIGKILL');
      await first.exited;
      expect(existsSync(lock)).toBe(true); // stale, left behind

      const third = start(config);
      await third.apiAddress();
      third.child.kill('SIGTERM');
      expect(await third.exited).toBe(0);
      expect(existsSync(lock)).toBe(false); // released on a clean stop
      const idle = spawnBinary(
        ['dlq', 'purge', '--config', config, '--yes'],
        tmp?.path as string,
      );
      expect(await idle.exited).toBe(0);
      expect(idle.stdout()).toContain('purged 0');
      expect(existsSync(lock)).toBe(false);
    },
  );
});
