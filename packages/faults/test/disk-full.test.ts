import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import {
  agentConfig,
  createLineWriter,
  formatTallies,
  readFileSink,
  spawnAgent,
  tally,
  waitFor,
} from '../src/index.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

// Needs root to mount a small tmpfs as the agent's data directory.
describe.skipIf(!isRoot)('disk full on the data directory', () => {
  it('should lose nothing while the data dir is full, once space is freed', async () => {
    const tmp = await createTempDir('lc-faults-diskfull-');
    const root = tmp.path;
    const data = join(root, 'data');
    await mkdir(join(root, 'logs'), { recursive: true });
    await mkdir(data);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'lc-faults', data]);
    const agents: ReturnType<typeof spawnAgent>[] = [];
    try {
      const config = join(root, 'agent.yaml');
      await writeFile(config, agentConfig({ root, wal: true }));
      const a = spawnAgent({ config, cwd: root });
      agents.push(a);
      await a.ready();
      const writer = createLineWriter({
        path: join(root, 'logs', 'app.log'),
        prefix: 'df',
        linesPerWrite: 50,
        intervalMs: 20,
      });
      // Fill the data dir to the last byte while traffic flows.
      await run('sh', [
        '-c',
        `dd if=/dev/zero of=${data}/filler bs=64k 2>/dev/null || true`,
      ]);
      const { stdout: avail } = await run('df', ['--output=avail', '-k', data]);
      const freeKb = Number(avail.trim().split('\n').at(-1));
      const api = await a.ready();
      const readiness = async () => {
        const res = await fetch(`${api}/ready`);
        const body = (await res.json()) as {
          components: { positions: { state: string; reason?: string } };
        };
        return { status: res.status, positions: body.components.positions };
      };
      // Positions cannot be saved: visible in /ready (and /status), while
      // the pipeline goes on.
      const sawFailing = await waitFor(async () => {
        const r = await readiness();
        return (
          r.status === 503 &&
          r.positions.state === 'down' &&
          (r.positions.reason ?? '').startsWith('saves failing')
        );
      }, 30_000);
      const status = (await (await fetch(`${api}/status`)).json()) as {
        positions: { state: string; lastError?: string };
      };
      const enospc = a.stderr().split('ENOSPC').length - 1;
      await rm(join(data, 'filler'));
      await run('mount', ['-o', 'remount,size=64m', data]);
      // Saves are retried: ready again once space is back.
      const recovered = await waitFor(
        async () => (await readiness()).status === 200,
        30_000,
      );
      await writer.stop();
      const all = writer.written;
      const restarted =
        a.child.exitCode !== null || a.child.signalCode !== null;
      await waitFor(async () => {
        const got = new Set(await readFileSink(join(root, 'out')));
        return all.every((l) => got.has(l));
      }, 90_000);
      const t = tally(
        'disk full on the data dir (WAL on) until /ready reports positions failing, then freed',
        all,
        await readFileSink(join(root, 'out')),
      );
      console.info(
        `\n${formatTallies([t])}\nfree after fill: ${freeKb} KiB; ENOSPC in agent log: ${enospc}\n`,
      );
      // The fault was real: the data dir had (almost) no space left.
      expect(freeKb).toBeLessThan(64);
      expect(sawFailing).toBe(true);
      expect(status.positions.state).toBe('failing');
      expect(status.positions.lastError).toMatch(/ENOSPC|no space/i);
      expect(recovered).toBe(true);
      // One agent process throughout: a full disk is not a reason to exit.
      expect(restarted).toBe(false);
      expect(t.unexpected).toBe(0);
      expect(t.lost).toBe(0);
    } finally {
      for (const x of agents) await x.kill();
      await run('umount', ['-l', data]).catch(() => undefined);
      await tmp.cleanup();
    }
  });
});
