import { fork } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleMonitorChild } from '../file-child-bundle.js';
import { nextMessage } from '../file-torture-support.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
let childPath = '';
beforeAll(async () => {
  childPath = await bundleMonitorChild();
}, 120_000);

describe('createFileMonitor', () => {
  describe('start', () => {
    // Root reads any file, so the monitor runs in a child process as `nobody`
    // (as root, the test drops privileges; otherwise it runs as the user).
    it('should report a clear permission error and keep reading other files', async () => {
      const dir = await createTempDir('lc-fm-perm-');
      try {
        chmodSync(dir.path, 0o777);
        const ok = join(dir.path, 'ok.log');
        const secret = join(dir.path, 'secret.log');
        const out = join(dir.path, 'out.txt');
        writeFileSync(ok, 'readable 1\n', { mode: 0o644 });
        writeFileSync(secret, 'hidden 1\n', { mode: 0o600 });
        writeFileSync(out, '');
        chmodSync(out, 0o666);
        chmodSync(secret, 0o600);
        if (isRoot) chownSync(secret, 0, 0);
        // `nobody` may not traverse the checkout (a clone in a 0700 temp dir):
        // run a copy of the bundle from the world-readable test directory.
        const script = join(dir.path, 'child.mjs');
        copyFileSync(childPath, script);
        chmodSync(script, 0o644);
        const child = fork(
          script,
          [`${dir.path}/*.log`, out, join(dir.path, 'positions.json')],
          {
            stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
            // Nor may it read the test runner's preloads (NODE_OPTIONS
            // --require into the checkout's node_modules): the bundle
            // needs none.
            env: { ...process.env, NODE_OPTIONS: '' },
            execArgv: [],
            ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
          },
        );
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<never>((_, reject) =>
          child.once('exit', (code, signal) =>
            reject(
              new Error(
                `monitor child exited (${signal ?? code}) before it started:\n${stderr}`,
              ),
            ),
          ),
        );
        exited.catch(() => undefined); // the kill in `finally` also ends it
        try {
          await Promise.race([nextMessage(child, 'started', 60_000), exited]);
          writeFileSync(ok, 'readable 2\n', { flag: 'a' });
          const deadline = Date.now() + 20_000;
          while (
            Date.now() < deadline &&
            !readFileSync(out, 'utf8').includes('readable 2')
          ) {
            await new Promise((r) => setTimeout(r, 50));
          }
          expect(readFileSync(out, 'utf8')).toBe('readable 1\nreadable 2\n');
          expect(stderr).toMatch(/LC_ERR_FILE_PERMISSION/);
          expect(stderr).toContain(secret);
        } finally {
          child.kill('SIGKILL');
        }
      } finally {
        await dir.cleanup();
      }
    }, 120_000);
  });
});
