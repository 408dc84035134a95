// The README's way of running the agent, `pnpm agent run`, as real
// processes: pnpm runs the root `agent` script, which execs the built
// binary (bin/lc-agent.js → dist/cli.js) in its own session with
// LC_EXIT_WITH_PARENT=1. Stopping pnpm must stop the agent: SIGTERM (pnpm
// forwards it), Ctrl-C (SIGINT to pnpm's process group: the agent gets it
// once, through pnpm, and stops cleanly rather than "forced"), and SIGKILL
// (nothing is forwarded; the agent notices its parent is gone).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentChildEnv, createTempDir, workspaceRoot } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, eventually, readSinkLines } from './agent-process.js';

const ROOT = workspaceRoot();
/** dispatcher.shutdown_timeout below + the agent's 15 s hard bound. */
const SHUTDOWN_BOUND_MS = 5_000 + 15_000;

interface PnpmAgent {
  readonly pnpm: ChildProcess;
  readonly exited: Promise<number | string>;
  output(): string;
  /** The agent's pid, from its first log line. */
  agentPid(): Promise<number>;
}

let tmp: TempDir | undefined;
const started: PnpmAgent[] = [];
const agentPids: number[] = [];

afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.pnpm.exitCode === null && s.pnpm.signalCode === null)
      process.kill(-(s.pnpm.pid as number), 'SIGKILL');
  }
  for (const pid of agentPids.splice(0)) {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await tmp?.cleanup();
  tmp = undefined;
});

/** Whether `pid` runs (a zombie is not running: PID 1 here may never reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return (
      stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
    );
  } catch {
    return false;
  }
}

async function setup(): Promise<string> {
  tmp = await createTempDir('lc-pnpm-agent-');
  await mkdir(join(tmp.path, 'logs'), { recursive: true });
  await appendFile(join(tmp.path, 'logs', 'app.log'), 'one\ntwo\n');
  const config = join(tmp.path, 'agent.yaml');
  await writeFile(
    config,
    `app: {data_dir: ${tmp.path}/data, log_format: json}
api: {port: 0}
sources: {files: [{include: ["${tmp.path}/logs/*.log"]}]}
dispatcher: {batch_timeout: 50ms, shutdown_timeout: 5s}
sinks: {file: [{name: out, directory: ${tmp.path}/out}]}
`,
  );
  return config;
}

/** `pnpm agent run --config FILE` from the workspace root, in its own process group (like a shell job). */
function pnpmAgentRun(config: string): PnpmAgent {
  const pnpm = spawn('pnpm', ['agent', 'run', '--config', config], {
    cwd: ROOT,
    env: agentChildEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  pnpm.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  pnpm.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    pnpm.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const s: PnpmAgent = {
    pnpm,
    exited,
    output: () => out,
    async agentPid() {
      await eventually(
        async () => /"pid":\d+/.test(out),
        60_000,
        `the agent's first log line (output: ${out})`,
      );
      const pid = Number(/"pid":(\d+)/.exec(out)?.[1]);
      if (!agentPids.includes(pid)) agentPids.push(pid);
      return pid;
    },
  };
  started.push(s);
  return s;
}

async function ready(s: PnpmAgent, dir: string): Promise<number> {
  const pid = await s.agentPid();
  await eventually(
    async () => s.output().includes('agent ready'),
    60_000,
    `agent ready (output: ${s.output()})`,
  );
  await eventually(
    async () => (await readSinkLines(join(dir, 'out'))).length === 2,
    60_000,
    'both lines delivered',
  );
  return pid;
}

describe('pnpm agent run (the README command)', () => {
  it('should run the built binary', () => {
    expect(existsSync(BIN)).toBe(true);
  });

  it('should stop the agent and release its lock when pnpm gets SIGTERM', async () => {
    const config = await setup();
    const dir = (tmp as TempDir).path;
    const s = pnpmAgentRun(config);
    const pid = await ready(s, dir);
    expect(existsSync(join(dir, 'data', 'lc-agent.lock'))).toBe(true);

    s.pnpm.kill('SIGTERM');
    await eventually(
      async () => !alive(pid),
      SHUTDOWN_BOUND_MS,
      'the agent process gone',
    );
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('"signal":"SIGTERM"');
    expect(s.output()).toContain('agent stopped');
    expect(existsSync(join(dir, 'data', 'lc-agent.lock'))).toBe(false);
  });

  it('should stop cleanly, not forced, on Ctrl-C (SIGINT to the whole process group)', async () => {
    const config = await setup();
    const dir = (tmp as TempDir).path;
    const s = pnpmAgentRun(config);
    const pid = await ready(s, dir);

    process.kill(-(s.pnpm.pid as number), 'SIGINT');
    await eventually(
      async () => !alive(pid),
      SHUTDOWN_BOUND_MS,
      'the agent process gone',
    );
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('agent stopped');
    expect(s.output()).not.toContain('second signal');
    expect(existsSync(join(dir, 'data', 'lc-agent.lock'))).toBe(false);
  });

  it('should stop the agent when pnpm is killed with SIGKILL (its parent is gone)', async () => {
    const config = await setup();
    const dir = (tmp as TempDir).path;
    const s = pnpmAgentRun(config);
    const pid = await ready(s, dir);

    s.pnpm.kill('SIGKILL');
    await eventually(
      async () => !alive(pid),
      SHUTDOWN_BOUND_MS,
      'the agent process gone',
    );
    await eventually(
      async () => s.output().includes('agent stopped'),
      10_000,
      `the agent's last log line (output: ${s.output()})`,
    );
    expect(s.output()).toContain('the parent process exited');
    expect(existsSync(join(dir, 'data', 'lc-agent.lock'))).toBe(false);
  });
});
