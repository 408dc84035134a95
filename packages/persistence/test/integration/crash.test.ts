import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// SIGKILL crash test with real child processes (STYLE.md rule 21). The
// child persists and settles batches with fsync=always; the parent kills
// it at random moments and checks, on every restart, that recover()
// yields every unsettled batch exactly once and no settled (batch, sink)
// ever again. 30 kills by default, 200 with LC_LONG_TESTS=1.
//
// The bookkeeping is the child's report file, appended with synchronous
// writes, so it holds every line the child wrote before it was killed; never
// its stdout: lines the parent is too slow to read stay queued inside the
// child and die with it, and a lost "D" line made a settled sink look like
// an unsettled one the WAL lost ("unsettled <id>/<sink> lost").
//
// On failure the data directory as it was before the failing run and as it
// is after it, and every child's report, are kept in a directory named in
// the error.

const KILLS = process.env.LC_LONG_TESTS === '1' ? 200 : 30;
const here = path.dirname(fileURLToPath(import.meta.url));
const childSource = path.join(here, '..', 'fixtures', 'crash-child.ts');
let bundleDir: TempDir;
let child: string;

// Bundle the child once (sources via the @lc/source condition), so each
// restart costs a plain `node` start instead of a TypeScript compile.
beforeAll(async () => {
  bundleDir = await createTempDir('lc-persistence-crash-bundle-');
  child = path.join(bundleDir.path, 'crash-child.mjs');
  await build({
    entryPoints: [childSource],
    outfile: child,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@lc/source'],
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
});
afterAll(async () => {
  await bundleDir.cleanup();
});

type SinkState = 'pending' | 'settling' | 'settled';

interface RunResult {
  lines: string[];
  code: number | null;
  stderr: string;
}

/**
 * Run the child until it exits (or is killed `killAfterReadyMs` after READY)
 * and return the lines of its report file, the only bookkeeping trusted.
 */
function runChild(
  directory: string,
  reportPath: string,
  runId: string,
  mode: 'run' | 'drain',
  killAfterReadyMs?: number,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [child, directory, runId, mode, reportPath],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (
        killAfterReadyMs !== undefined &&
        killTimer === undefined &&
        stdout.includes('READY\n')
      ) {
        killTimer = setTimeout(() => proc.kill('SIGKILL'), killAfterReadyMs);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(killTimer);
      readFile(reportPath, 'utf8').then((text) => {
        // A partial last line (killed mid-write) is ignored.
        const lines = text.split('\n').slice(0, -1);
        resolve({ lines, code, stderr });
      }, reject);
    });
  });
}

/** Check the R lines of a run against what earlier runs reported. */
function checkRecovery(
  state: Map<string, Map<string, SinkState>>,
  lines: readonly string[],
): number {
  const readyAt = lines.indexOf('READY');
  expect(readyAt, 'child never got READY').toBeGreaterThanOrEqual(0);
  const seen = new Set<string>();
  for (const line of lines.slice(0, readyAt)) {
    const [tag, id, sinksText] = line.split(' ') as [string, string, string];
    expect(tag, line).toBe('R');
    expect(seen.has(id), `batch ${id} recovered twice`).toBe(false);
    seen.add(id);
    const pendingSinks = new Set(sinksText.split(',').filter(Boolean));
    const known =
      state.get(id) ??
      new Map<string, SinkState>([
        ['a', 'pending'],
        ['b', 'pending'],
      ]);
    for (const [sink, st] of known) {
      if (st === 'settled')
        expect(pendingSinks.has(sink), `settled ${id}/${sink} came back`).toBe(
          false,
        );
      if (st === 'pending')
        expect(pendingSinks.has(sink), `unsettled ${id}/${sink} lost`).toBe(
          true,
        );
      known.set(sink, pendingSinks.has(sink) ? 'pending' : 'settled');
    }
    state.set(id, known);
  }
  for (const [id, sinks] of state) {
    if (seen.has(id)) continue;
    for (const [sink, st] of sinks) {
      expect(st, `unsettled ${id}/${sink} not recovered`).not.toBe('pending');
      sinks.set(sink, 'settled');
    }
  }
  return seen.size;
}

function applyRun(
  state: Map<string, Map<string, SinkState>>,
  lines: readonly string[],
): void {
  for (const line of lines.slice(lines.indexOf('READY') + 1)) {
    const [tag, id, sink] = line.split(' ') as [
      string,
      string,
      string | undefined,
    ];
    if (tag === 'P')
      state.set(
        id,
        new Map([
          ['a', 'pending'],
          ['b', 'pending'],
        ]),
      );
    else if (tag === 'D') state.get(id)?.set(sink as string, 'settling');
    else if (tag === 'S') state.get(id)?.set(sink as string, 'settled');
  }
}

/** Copy a failed run's data directories and child output aside. */
async function keepEvidence(
  directory: string,
  before: string,
  history: readonly string[],
): Promise<string> {
  const kept = await mkdtemp(
    path.join(os.tmpdir(), 'lc-persistence-crash-evidence-'),
  );
  await cp(before, path.join(kept, 'before'), { recursive: true });
  await cp(directory, path.join(kept, 'after'), { recursive: true });
  await writeFile(path.join(kept, 'children.log'), `${history.join('\n')}\n`);
  return kept;
}

describe('createBatchPersistence', () => {
  describe('crash recovery (SIGKILL)', () => {
    it(
      `should recover every unsettled batch exactly once over ${KILLS} kills`,
      async () => {
        const dir = await createTempDir('lc-persistence-crash-');
        const reports = await createTempDir('lc-persistence-crash-reports-');
        const before = `${dir.path}.before`;
        const history: string[] = [];
        const state = new Map<string, Map<string, SinkState>>();
        let recoveredTotal = 0;
        let persistedTotal = 0;
        const runOnce = async (
          runId: string,
          mode: 'run' | 'drain',
          killAfter?: number,
        ): Promise<RunResult> => {
          await rm(before, { recursive: true, force: true });
          await cp(dir.path, before, { recursive: true });
          const result = await runChild(
            dir.path,
            path.join(reports.path, `${runId}.log`),
            runId,
            mode,
            killAfter,
          );
          history.push(`# ${runId} ${mode} code=${result.code}`);
          history.push(...result.lines);
          return result;
        };
        try {
          for (let run = 0; run < KILLS; run++) {
            const killAfter = 20 + Math.floor(Math.random() * 300);
            const result = await runOnce(`r${run}`, 'run', killAfter);
            expect(result.code, result.stderr).toBeNull(); // killed, not crashed
            recoveredTotal += checkRecovery(state, result.lines);
            applyRun(state, result.lines);
            persistedTotal += result.lines.filter((l) =>
              l.startsWith('P '),
            ).length;
          }
          const drain = await runOnce('drain', 'drain');
          expect(drain.code, drain.stderr).toBe(0);
          checkRecovery(state, drain.lines);
          expect(drain.lines.at(-1)).toBe('DONE');
          const empty = await runOnce('empty', 'drain');
          expect(empty.code, empty.stderr).toBe(0);
          expect(empty.lines).toEqual(['READY', 'DONE']);
          expect(persistedTotal).toBeGreaterThan(KILLS);
          expect(recoveredTotal).toBeGreaterThan(0);
          console.log(
            `crash test: ${KILLS} kills, ${persistedTotal} batches persisted, ${recoveredTotal} recoveries checked`,
          );
        } catch (error) {
          const kept = await keepEvidence(dir.path, before, history);
          if (error instanceof Error)
            error.message = `${error.message}\n(evidence kept in ${kept})`;
          throw error;
        } finally {
          await rm(before, { recursive: true, force: true });
          await dir.cleanup();
          await reports.cleanup();
        }
      },
      KILLS * 20_000,
    );
  });
});
