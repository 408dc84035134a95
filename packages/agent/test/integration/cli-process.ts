import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { agentChildEnv, shebangNodeFlags } from '@lc/test-utils';
import { BIN } from './agent-process.js';

/** How a finished `lc-agent` command ended and what it printed. */
export interface CliResult {
  /** Exit code, or the signal name. */
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCli}. */
export interface CliOptions {
  readonly cwd: string;
  readonly env?: Record<string, string>;
  /** Run as this user (tests running as root drop to nobody for permission cases). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /**
   * For `run`: resolve once this log message appears (then SIGTERM, and the
   * exit is awaited), or once the process exits, whichever is first.
   */
  readonly readyMessage?: string;
  /** Extra Node flags before the script (`--import` a fault, say). */
  readonly nodeArgs?: readonly string[];
  /** Called once `readyMessage` appears, before the SIGTERM (which it may replace). */
  readonly onReady?: (child: ChildProcess) => Promise<void>;
  /** Bound on the whole command, ms. @default 60_000 */
  readonly timeoutMs?: number;
}

/** What a run ended as: it logged `readyMessage` (then was stopped), or exited on its own. */
export interface RunVerdict extends CliResult {
  readonly ready: boolean;
  /** The exit code after the SIGTERM that followed readiness. */
  readonly stopCode?: number | string;
}

const NOBODY = { uid: 65534, gid: 65534 } as const;

/**
 * An unprivileged user when this runs as root (permission checks do not
 * apply to root). That user must be able to run the built binary: a
 * checkout under a directory only root can enter (a `mktemp -d` clone,
 * mode 0700) fails here with the reason, instead of every permission case
 * failing later with `MODULE_NOT_FOUND`.
 */
export function unprivilegedUser():
  { readonly uid: number; readonly gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const probe = spawnSync(process.execPath, [BIN, '--version'], {
    env: agentChildEnv(),
    uid: NOBODY.uid,
    gid: NOBODY.gid,
    cwd: '/',
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    throw new Error(
      `the permission cases run lc-agent as uid ${NOBODY.uid}, which cannot run ${BIN} ` +
        `(is a parent directory of the checkout closed to other users, e.g. mode 0700?): ` +
        `${firstErrorLine(probe.stderr || String(probe.error))}`,
    );
  return NOBODY;
}

function firstErrorLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines.find((l) => /Error|EACCES/.test(l)) ?? lines[0] ?? '';
}

/**
 * Run the built `lc-agent` binary with `args` to completion (or, with
 * `readyMessage`, until it is ready or exits) and collect its output.
 */
export function runCli(
  args: readonly string[],
  options: CliOptions,
): Promise<RunVerdict> {
  const child = spawn(
    process.execPath,
    [...shebangNodeFlags(BIN), ...(options.nodeArgs ?? []), BIN, ...args],
    {
      cwd: options.cwd,
      env: { ...agentChildEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.user === undefined
        ? {}
        : { uid: options.user.uid, gid: options.user.gid }),
    },
  );
  let stdout = '';
  let stderr = '';
  let ready = false;
  const marker =
    options.readyMessage === undefined
      ? undefined
      : `"msg":${JSON.stringify(options.readyMessage)}`;
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const becameReady = new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (marker !== undefined && !ready && stderr.includes(marker)) {
        ready = true;
        resolve();
      }
    });
  });
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `lc-agent ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stderr}`,
        ),
      );
    }, timeoutMs);
  });
  const outcome = (async (): Promise<RunVerdict> => {
    const first = await Promise.race([
      exited.then((code) => ({ code })),
      becameReady.then(() => undefined),
    ]);
    if (first !== undefined) return { code: first.code, stdout, stderr, ready };
    if (options.onReady === undefined) child.kill('SIGTERM');
    else await options.onReady(child);
    const stopCode = await exited;
    return { code: stopCode, stopCode, stdout, stderr, ready: true };
  })();
  return Promise.race([outcome, timedOut]).finally(() => clearTimeout(timer));
}

/** Run up to `limit` of `tasks` at a time (spawning 40 agents at once would swamp 2 cores). */
export async function inBatches<T>(
  tasks: readonly (() => Promise<T>)[],
  limit: number,
): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, worker),
  );
  return results;
}
