import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { agentChildEnv, shebangNodeFlags } from '@lc/test-utils';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(PKG, 'src', 'cli.ts');
const TSX = pathToFileURL(
  join(PKG, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
).href;

/** A running `lc-agent` child process (TypeScript sources through tsx). */
export interface AgentProcess {
  readonly child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** Resolves with the API address once "api listening" is logged. */
  apiAddress(timeoutMs?: number): Promise<string>;
}

/** Spawn `lc-agent <args>` in `cwd`, from the TypeScript sources. */
export function spawnAgent(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): AgentProcess {
  return spawnWith(
    [...shebangNodeFlags(CLI), '--conditions=@lc/source', '--import', TSX, CLI],
    args,
    cwd,
    env,
  );
}

/**
 * The `lc-agent` command as installed (bin/lc-agent.js, which loads the
 * build; this package's tests build it first: turbo.json).
 */
export const BIN = join(PKG, 'bin', 'lc-agent.js');

/** Spawn the built `lc-agent` binary with its shebang's Node flags, as users run it. */
export function spawnBinary(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): AgentProcess {
  return spawnWith([...shebangNodeFlags(BIN), BIN], args, cwd, env);
}

function spawnWith(
  node: string[],
  args: string[],
  cwd: string,
  env: Record<string, string>,
): AgentProcess {
  const child = spawn(process.execPath, [...node, ...args], {
    cwd,
    env: { ...agentChildEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    async apiAddress(timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = /"address":"(http:\/\/[^"]+)"/.exec(err);
        if (m !== null) return m[1] as string;
        if (child.exitCode !== null)
          throw new Error(`agent exited ${child.exitCode}: ${err}`);
        if (Date.now() > end)
          throw new Error(`agent did not start in time: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Every `line` written by the file sink under `dir`. */
export async function readSinkLines(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const lines: string[] = [];
  for (const f of files.sort()) {
    const text = await readFile(join(dir, f), 'utf8');
    for (const l of text.split('\n')) {
      if (l === '') continue;
      try {
        lines.push((JSON.parse(l) as { line: string }).line);
      } catch {
        // A torn last line after SIGKILL; the sink repairs it on restart.
      }
    }
  }
  return lines;
}

/** Poll until `check` holds. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end)
      throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a test may leave behind: an agent, a server, a temporary directory. */
export type TestLeftover =
  | AgentProcess
  | { close(): Promise<unknown> }
  | { cleanup(): Promise<unknown> }
  | undefined;

/**
 * Releases what a test left, in the order given, whatever its outcome: an
 * agent still running is SIGKILLed (not waited for), a server is closed, a
 * temporary directory removed.
 */
export async function release(...left: TestLeftover[]): Promise<void> {
  for (const r of left) {
    if (r === undefined) continue;
    if ('child' in r) {
      if (r.child.exitCode === null && r.child.signalCode === null)
        r.child.kill('SIGKILL');
    } else if ('close' in r) await r.close();
    else await r.cleanup();
  }
}

/** The agent's JSON log lines (stderr), parsed. */
export function logLines(a: AgentProcess): Array<Record<string, unknown>> {
  return a
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
