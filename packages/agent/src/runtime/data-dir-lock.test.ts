import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { acquireDataDirLock, LOCK_FILE } from './data-dir-lock.js';

// Real files; the "other agent" is this test's parent process (alive, not us).

async function withDir(fn: (dir: string) => void): Promise<void> {
  const t = await createTempDir('lc-lock-');
  try {
    fn(join(t.path, 'data'));
  } finally {
    await t.cleanup();
  }
}

const holderPid = (dir: string): number =>
  (JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number })
    .pid;

describe('acquireDataDirLock', () => {
  it('should create the directory and the lock, refuse a second take while held, and release only its own', () =>
    withDir((dir) => {
      const first = acquireDataDirLock(dir);
      expect(first.ok).toBe(true);
      expect(holderPid(dir)).toBe(process.pid);
      // Same pid: a previous life of this process (pid 1 in a container) is stale.
      const again = acquireDataDirLock(dir);
      expect(again.ok).toBe(true);
      if (first.ok) first.lock.release();
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    }));

  it('should refuse while a live process other than this one holds it', () =>
    withDir((dir) => {
      acquireDataDirLock(dir); // creates the directory
      writeFileSync(
        join(dir, LOCK_FILE),
        JSON.stringify({ pid: process.ppid }),
      );
      const r = acquireDataDirLock(dir);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.holder.pid).toBe(process.ppid);
      expect(holderPid(dir)).toBe(process.ppid);
    }));

  it.each([
    ['a pid that is gone', () => JSON.stringify({ pid: 2 ** 22 + 12345 })],
    [
      'a reused pid (another start time)',
      () => JSON.stringify({ pid: process.ppid, startTicks: '1' }),
    ],
    ['an unreadable file', () => '{"pid": tor'],
  ])('should take over a stale lock: %s', (_name, content) =>
    withDir((dir) => {
      acquireDataDirLock(dir);
      writeFileSync(join(dir, LOCK_FILE), content());
      const r = acquireDataDirLock(dir);
      expect(r.ok).toBe(true);
      expect(holderPid(dir)).toBe(process.pid);
    }),
  );
});
