// Real SIGKILLs (STYLE.md rule 21): a child appends and acks with
// fsync=always while the parent kills it at random moments, then reopens
// the log and checks that nothing durable was lost or came back.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
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
 * after spawn when `duringStartup` (to interrupt recovery itself).
 */
function runChild(
  dir: string,
  runId: number,
  killAfterMs: number,
  duringStartup: boolean,
  log: RunLog,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, bundle, dir, String(runId)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const onLine = (line: string): void => {
      const [kind, a, b] = line.split(' ');
      if (kind === 'READY' && !duringStartup)
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      else if (kind === 'A') log.appended.set(Number(a), b as string);
      else if (kind === 'a')
        for (const s of (a as string).split(',')) log.maybeAcked.add(Number(s));
      else if (kind === 'K')
        for (const s of (a as string).split(','))
          log.durablyAcked.add(Number(s));
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      let i = out.indexOf('\n');
      while (i !== -1) {
        onLine(out.slice(0, i));
        out = out.slice(i + 1);
        i = out.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    let timer = duringStartup
      ? setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      : undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited by itself (code ${code}): ${err}`));
    });
  });
}

describe('createDiskLog', () => {
  describe('crash safety (SIGKILL)', () => {
    it(
      `should open cleanly and lose no durable, unacknowledged record across ${KILLS} kills`,
      async () => {
        const dir = join(tmp.path, 'log');
        const state: RunLog = {
          appended: new Map(),
          maybeAcked: new Set(),
          durablyAcked: new Set(),
        };
        let corruptions = 0;
        for (let run = 0; run < KILLS; run++) {
          const duringStartup = run % 5 === 4;
          await runChild(
            dir,
            run,
            Math.floor(Math.random() * (duringStartup ? 400 : 600)),
            duringStartup,
            state,
          );
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
              expect(e.seq).toBeGreaterThan(prev);
              prev = e.seq;
              seen.add(e.seq);
              expect(state.durablyAcked.has(e.seq)).toBe(false);
              const id = state.appended.get(e.seq);
              if (id !== undefined) expect(e.source).toBe(id);
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
      },
      KILLS * 5_000,
    );
  });
});
