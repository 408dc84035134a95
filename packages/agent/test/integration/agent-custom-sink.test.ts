// sinks.custom through the real `lc-agent` binary: examples/custom-sink
// (built; this package's tests build it first: turbo.json) installed in
// the config directory's node_modules and named by its package name, so
// the module resolves from the config file's directory as a user's would.
import {
  appendFile,
  mkdir,
  readFile,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, workspaceRoot } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, readSinkLines, spawnBinary } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const EXAMPLE = join(workspaceRoot(), 'examples', 'custom-sink');

let tmp: TempDir;
let conf: string;
const running: AgentProcess[] = [];

beforeEach(async () => {
  tmp = await createTempDir('lc-agent-custom-sink-');
  conf = join(tmp.path, 'conf');
  await mkdir(join(conf, 'node_modules', '@lc'), { recursive: true });
  await symlink(
    EXAMPLE,
    join(conf, 'node_modules', '@lc', 'example-custom-sink'),
    'dir',
  );
  await mkdir(join(tmp.path, 'logs'), { recursive: true });
});

afterEach(async () => {
  for (const a of running.splice(0))
    if (a.child.exitCode === null && a.child.signalCode === null) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  await tmp.cleanup();
});

async function writeConfig(custom: string): Promise<string> {
  const path = join(conf, 'agent.yaml');
  await writeFile(
    path,
    `app: {data_dir: ${tmp.path}/data, log_format: json}
api: {port: 0}
sources:
  files:
    - {include: ["${tmp.path}/logs/app-*.log"], labels: {job: app}}
    - {include: ["${tmp.path}/logs/db-*.log"], labels: {job: db}}
dispatcher: {batch_timeout: 50ms}
sinks:
  file: [{name: rest, directory: ${tmp.path}/rest, match: {job: db}}]
  custom:
${custom}
`,
  );
  return path;
}

function start(args: string[]): AgentProcess {
  const a = spawnBinary(args, tmp.path);
  running.push(a);
  return a;
}

const appended = async (path: string): Promise<string[]> =>
  (await readFile(path, 'utf8').catch(() => '')).split('\n').slice(0, -1);

describe('lc-agent sinks.custom (real binary, examples/custom-sink)', () => {
  it('should deliver the records routed to the custom sink, and the others to theirs', async () => {
    const config = await writeConfig(
      `    - name: mine
      module: "@lc/example-custom-sink"
      options: {path: ${tmp.path}/mine.log}
      match: {job: "ap*"}`,
    );
    const validate = start(['validate', '--config', config]);
    expect(await validate.exited).toBe(0);
    expect(validate.stdout()).toContain('configuration ok');

    await appendFile(join(tmp.path, 'logs', 'app-1.log'), 'a1\na2\na3\n');
    await appendFile(join(tmp.path, 'logs', 'db-1.log'), 'd1\nd2\n');
    const agent = start(['run', '--config', config]);
    await agent.apiAddress();
    await eventually(
      async () => (await appended(join(tmp.path, 'mine.log'))).length === 3,
      60_000,
      'three lines in the custom sink',
    );
    await appendFile(join(tmp.path, 'logs', 'app-1.log'), 'a4\n');
    await eventually(
      async () => (await appended(join(tmp.path, 'mine.log'))).length === 4,
      60_000,
      'the appended line in the custom sink',
    );
    await eventually(
      async () => (await readSinkLines(join(tmp.path, 'rest'))).length === 2,
      60_000,
      'two lines in the file sink',
    );
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(await appended(join(tmp.path, 'mine.log'))).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
    ]);
    expect((await readSinkLines(join(tmp.path, 'rest'))).sort()).toEqual([
      'd1',
      'd2',
    ]);
    expect(agent.stderr()).toMatch(/"sinks":\["rest","mine"\]/);
  });

  it('should make validate fail (exit 2) naming sinks.custom[i].module for a module that is missing or exports no factory', async () => {
    const config = await writeConfig(
      `    - {name: gone, module: ./sinks/gone.js}
    - {name: wrong, module: "@lc/example-custom-sink", export: makeSink}`,
    );
    const validate = start(['validate', '--config', config]);
    expect(await validate.exited).toBe(2);
    const err = validate.stderr();
    expect(err).toContain(
      'sinks.custom[0].module: cannot resolve "./sinks/gone.js"',
    );
    expect(err).toContain(
      'sinks.custom[1].module: "@lc/example-custom-sink" has no export "makeSink"',
    );
    // run refuses the same config the same way, before starting anything.
    const run = start(['run', '--config', config]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('sinks.custom[0].module');
  });

  it('should fail to start naming sinks.custom[i].options when the factory rejects its options', async () => {
    const config = await writeConfig(
      `    - {name: mine, module: "@lc/example-custom-sink", options: {}}`,
    );
    const run = start(['run', '--config', config]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('sinks.custom[0].options');
    expect(run.stderr()).toContain('path: expected the file to append to');
  });
});
