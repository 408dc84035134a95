import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { agentChildEnv, shebangNodeFlags } from '@lc/test-utils';

const require = createRequire(import.meta.url);
const AGENT_DIR = dirname(require.resolve('@lc/agent/package.json'));
/** The built `lc-agent` binary (`pnpm test` builds it first, see turbo.json). */
const CLI = join(AGENT_DIR, 'dist', 'cli.js');

/** A running `lc-agent run` child process. */
export interface AgentProcess {
  readonly child: ChildProcess;
  /** Everything the agent wrote to stderr so far (its JSON log). */
  stderr(): string;
  /** Resolves with the exit code, or the signal name that ended it. */
  readonly exited: Promise<number | string>;
  /**
   * Resolves with the API base URL once the agent logged it is listening.
   * Rejects when the agent exits first or after `timeoutMs` (ms).
   */
  ready(timeoutMs?: number): Promise<string>;
  /** SIGKILL, then wait for the exit. No-op when already exited. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | string>;
}

/** Options of {@link spawnAgent}. */
export interface SpawnAgentOptions {
  /** Path of the agent YAML config. */
  readonly config: string;
  /** Working directory of the child. */
  readonly cwd: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Spawns the real `lc-agent run --config <config>`: the built binary with
 * the Node flags of its shebang, as users run it (start-up time included,
 * which the early-kill and crash-loop scenarios depend on).
 */
export function spawnAgent(options: SpawnAgentOptions): AgentProcess {
  const child = spawn(
    process.execPath,
    [
      // The GC flags of the lc-agent binary's shebang.
      ...shebangNodeFlags(CLI),
      CLI,
      'run',
      '--config',
      options.config,
    ],
    {
      cwd: options.cwd,
      env: { ...agentChildEnv(), ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 4_000_000) err = err.slice(-1_000_000);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    stderr: () => err,
    exited,
    async ready(timeoutMs = 90_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = /"address":"(http:\/\/[^"]+)"/.exec(err);
        if (m !== null) return m[1] as string;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`agent exited early: ${err.slice(-2000)}`);
        if (Date.now() > end)
          throw new Error(
            `agent not ready in ${timeoutMs} ms: ${err.slice(-2000)}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGTERM');
      return exited;
    },
  };
}
