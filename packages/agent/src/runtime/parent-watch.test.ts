import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { watchParent } from './parent-watch.js';

describe('watchParent', () => {
  it('should not watch when the parent is init (pid 1) or the process is pid 1', () => {
    for (const pid of [0, 1]) {
      const onGone = vi.fn();
      const w = watchParent({ onGone, ppid: () => pid, intervalMs: 1 });
      expect(w.watching).toBe(false);
      w.stop();
    }
  });

  it('should call onGone once when the process is re-parented', async () => {
    let ppid = 4242;
    const gone = new Promise<{ parentPid: number; newParentPid: number }>(
      (resolve) => {
        const w = watchParent({
          onGone: resolve,
          ppid: () => ppid,
          intervalMs: 5,
        });
        expect(w.watching).toBe(true);
        expect(w.parentPid).toBe(4242);
      },
    );
    ppid = 1;
    expect(await gone).toEqual({ parentPid: 4242, newParentPid: 1 });
  });

  it('should not call onGone after stop', async () => {
    let ppid = 4242;
    const onGone = vi.fn();
    const w = watchParent({ onGone, ppid: () => ppid, intervalMs: 1 });
    w.stop();
    ppid = 1;
    // A watch started later with the same interval ticks after the stopped
    // one would have: once it has seen the change, so would the stopped one.
    let calls = 0;
    await new Promise<void>((resolve) =>
      watchParent({
        onGone: () => resolve(),
        ppid: () => (calls++ === 0 ? 4242 : 1),
        intervalMs: 1,
      }),
    );
    expect(onGone).not.toHaveBeenCalled();
  });

  it('should notice a real parent process exit (child of a killed shell)', async () => {
    // sh starts a node child that watches its parent, then sh is killed:
    // the child must report the re-parenting and exit on its own.
    const script = `
      const { watchParent } = await import(${JSON.stringify(new URL('./parent-watch.ts', import.meta.url).href)});
      const w = watchParent({ intervalMs: 20, onGone: (i) => { console.log('gone ' + i.parentPid); process.exit(0); } });
      console.log('watching ' + w.watching + ' ' + w.parentPid);
      setInterval(() => {}, 1000);
    `;
    const sh = spawn(
      'sh',
      [
        '-c',
        // Not the last command, so sh cannot exec node in its place.
        `"${process.execPath}" --import tsx --input-type=module -e "$0"; true`,
        script,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const lines = (want: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const m = want.exec(out);
          if (m !== null) resolve(m);
        };
        sh.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          check();
        });
        sh.stdout.on('end', () => {
          const m = want.exec(out);
          if (m === null) reject(new Error(`no ${String(want)} in ${out}`));
          else resolve(m);
        });
        check();
      });
    const watching = await lines(/watching true (\d+)/);
    expect(Number(watching[1])).toBe(sh.pid);
    sh.kill('SIGKILL');
    const gone = await lines(/gone (\d+)/);
    expect(Number(gone[1])).toBe(sh.pid);
  });
});
