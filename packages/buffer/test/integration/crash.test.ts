// Real SIGKILLs (STYLE.md rule 21): a child appends and acks with
// fsync=always while the parent kills it at random moments, then reopens
// the log and checks that nothing durable was lost or came back.
//
// The bookkeeping is the child's report file, appended with synchronous
// writes, so it holds every line the child wrote before it was killed; never
// its stdout: lines the parent is too slow to read stay queued inside the
// child and die with it, and a lost "a" (about to ack) line made an acked
// record look like a durable one the log lost ("durable record … lost").
//
// On failure the log directory as it was before the failing run and as it
// is after it, and every child's report, are kept in a directory named in
// the error.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, type TempDir } from '@lc/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskLog } from '../../src/index.js';
import { buildFixtureBundle } from '../fixtures/build-fixture.js';
import { collect } from '../helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, '..', 'fixtures', 'crash-child.mjs');
const KILLS = process.env.LC_LONG_TESTS === '1' ? 200 : 30;

let bundle: string;
let tmp: TempDir;

beforeAll(async () => {
  bundle = await buildFixtureBundle();
  tmp = await createTempDir('lc-buffer-crash-');
}, 120_000);
afterAll(async () => {
  await tmp.cleanup();
  await rm(dirname(bundle), { recursive: true, force: true });
});

interface RunLog {
  appended: Map<number, string>;
  maybeAcked: Set<number>;
  durablyAcked: Set<number>;
}

/**
 * Run the child and SIGKILL it `killAfterMs` after it reported READY, or
 * after spawn when `duringStartup` (to interrupt recovery itself); resolve
 * with the whole lines of its report file once it is gone.
 */
function runChild(
  dir: string,
  reportPath: string,
  runId: number,
  killAfterMs: number,
  duringStartup: boolean,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CHILD, bundle, dir, String(runId), reportPath],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let timer = duringStartup
      ? setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      : undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (timer === undefined && out.includes('READY\n'))
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`child exited by itself (code ${code}): ${err}`));
        return;
      }
      // Killed before it opened the report: no lines. A partial last line
      // (killed mid-write) is ignored.
      readFile(reportPath, 'utf8')
        .catch(() => '')
        .then((text) => resolve(text.split('\n').slice(0, -1)), reject);
    });
  });
}

/** Fold one run's report lines into what is known to be durable. */
function applyReport(log: RunLog, lines: readonly string[]): void {
  for (const line of lines) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'A') log.appended.set(Number(a), b as string);
    else if (kind === 'a')
      for (const s of (a as string).split(',')) log.maybeAcked.add(Number(s));
    else if (kind === 'K')
      for (const s of (a as string).split(',')) log.durablyAcked.add(Number(s));
  }
}

/** Copy a failed run's log directories and the children's reports aside. */
async function keepEvidence(
  dir: string,
  before: string,
  reports: string,
): Promise<string> {
  const kept = await mkdtemp(join(tmpdir(), 'lc-buffer-crash-evidence-'));
  await cp(before, join(kept, 'before'), { recursive: true }).catch(() => {});
  await cp(dir, join(kept, 'after'), { recursive: true }).catch(() => {});
  await cp(reports, join(kept, 'reports'), { recursive: true });
  return kept;
}

describe('createDiskLog', () => {
  describe('crash safety (SIGKILL)', () => {
    it(
      `should open cleanly and lose no durable, unacknowledged record across ${KILLS} kills`,
      async () => {
        const dir = join(tmp.path, 'log');
        const before = join(tmp.path, 'log.before');
        const reports = join(tmp.path, 'reports');
        await mkdir(reports, { recursive: true });
        const state: RunLog = {
          appended: new Map(),
          maybeAcked: new Set(),
          durablyAcked: new Set(),
        };
        let corruptions = 0;
        try {
          for (let run = 0; run < KILLS; run++) {
            const duringStartup = run % 5 === 4;
            await rm(before, { recursive: true, force: true });
            await cp(dir, before, { recursive: true }).catch(() => {});
            const lines = await runChild(
              dir,
              join(reports, `${run}.log`),
              run,
              Math.floor(Math.random() * (duringStartup ? 400 : 600)),
              duringStartup,
            );
            applyReport(state, lines);
            const log = await createDiskLog({
              directory: dir,
              fsync: 'always',
              maxSegmentBytes: 64 * 1024,
            });
            try {
              corruptions += log.stats().corruptions;
              const got = await collect(log.read());
              const seen = new Set<number>();
              let prev = -1;
              for (const e of got) {
                expect(e.seq, `run ${run}: seqs out of order`).toBeGreaterThan(
                  prev,
                );
                prev = e.seq;
                seen.add(e.seq);
                expect(
                  state.durablyAcked.has(e.seq),
                  `run ${run}: durably acked record ${e.seq} came back`,
                ).toBe(false);
                const id = state.appended.get(e.seq);
                if (id !== undefined)
                  expect(e.source, `run ${run}: record ${e.seq}`).toBe(id);
              }
              for (const [seq, id] of state.appended) {
                if (!state.maybeAcked.has(seq) && !seen.has(seq)) {
                  throw new Error(
                    `run ${run}: durable record ${seq} (${id}) lost`,
                  );
                }
              }
            } finally {
              await log.shutdown();
            }
          }
          expect(state.appended.size).toBeGreaterThan(KILLS);
          // Informational: torn tails are expected after some kills.
          console.log(
            `crash test: ${KILLS} kills, ${state.appended.size} durable appends, ${corruptions} healed ranges`,
          );
        } catch (error) {
          const kept = await keepEvidence(dir, before, reports);
          if (error instanceof Error)
            error.message = `${error.message}\n(evidence kept in ${kept})`;
          throw error;
        } finally {
          await rm(before, { recursive: true, force: true });
        }
      },
      KILLS * 5_000,
    );
  });
});
