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
      await new Promise((r) => setTimeout(r, 5_000));
      const enospc = a.stderr().split('ENOSPC').length - 1;
      await rm(join(data, 'filler'));
      await run('mount', ['-o', 'remount,size=64m', data]);
      await new Promise((r) => setTimeout(r, 1_000));
      await writer.stop();
      const all = writer.written;
      // The agent may have exited on ENOSPC; a restart must recover.
      let restarted = false;
      if (a.child.exitCode !== null || a.child.signalCode !== null) {
        restarted = true;
        const b = spawnAgent({ config, cwd: root });
        agents.push(b);
        await b.ready();
      }
      await waitFor(async () => {
        const got = new Set(await readFileSink(join(root, 'out')));
        return all.every((l) => got.has(l));
      }, 90_000);
      const t = tally(
        `disk full on data dir 5 s${restarted ? ' (agent exited, restarted)' : ''}`,
        all,
        await readFileSink(join(root, 'out')),
      );
      console.info(
        `\n${formatTallies([t])}\nfree after fill: ${freeKb} KiB; ENOSPC in agent log: ${enospc}\n`,
      );
      // The fault was real: the data dir had (almost) no space left.
      expect(freeKb).toBeLessThan(64);
      expect(t.unexpected).toBe(0);
      expect(t.lost).toBe(0);
    } finally {
      for (const x of agents) await x.kill();
      await run('umount', ['-l', data]).catch(() => undefined);
      await tmp.cleanup();
    }
  });
});
