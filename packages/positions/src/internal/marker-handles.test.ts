import { readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FilePosition } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { computeOffsetMarker, observeFile } from '../file-identity.js';
import { MarkerHandles } from './marker-handles.js';
import { open } from 'node:fs/promises';

async function positionOf(path: string, offset: number): Promise<FilePosition> {
  const h = await open(path, 'r');
  const o = await observeFile(h, path);
  await h.close();
  return {
    kind: 'file',
    id: `${o.dev}:${o.ino}`,
    path,
    dev: o.dev,
    ino: o.ino,
    fingerprint: o.fingerprint,
    fingerprintBytes: o.fingerprintBytes,
    offset,
    offsetMarker: '',
    size: o.size,
    mtimeMs: o.mtimeMs,
    lastReadAtMs: 0,
    logCount: 0,
    bytesRead: 0,
    status: 'active',
    updatedAtMs: 0,
  };
}

/** File descriptors of this process that point at `path`. */
async function fdsOn(path: string): Promise<number> {
  const { readlink } = await import('node:fs/promises');
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(path)) n++;
  }
  return n;
}

describe('MarkerHandles', () => {
  it('should keep reading the same identity after a rename, and not read another file at the path', async () => {
    const dir = await createTempDir('lc-marker-handles-');
    const path = join(dir.path, 'app.log');
    await writeFile(path, 'first generation line\n');
    const p = await positionOf(path, 10);
    const handles = new MarkerHandles();
    const marker = (h: Parameters<Parameters<MarkerHandles['use']>[1]>[0]) =>
      computeOffsetMarker(h, 10);
    const before = await handles.use(p, marker);
    expect(handles.size).toBe(1);
    // Rotation by create: the kept handle still reads the first generation.
    await rename(path, `${path}.1`);
    await writeFile(path, 'second generation, other bytes\n');
    expect(await handles.use(p, marker)).toBe(before);
    // A fresh instance opens by path: the path is now another identity.
    const fresh = new MarkerHandles();
    expect(await fresh.use(p, marker)).toBeUndefined();
    expect(fresh.size).toBe(0);
    await handles.closeAll();
    await dir.cleanup();
  });

  it('should close a handle the previous flush did not use, so a deleted file is not held open', async () => {
    const dir = await createTempDir('lc-marker-handles-');
    const path = join(dir.path, 'app.log');
    await writeFile(path, 'some bytes to mark\n');
    const p = await positionOf(path, 5);
    const handles = new MarkerHandles();
    await handles.beginFlush();
    await handles.use(p, async () => 'x');
    await unlink(path);
    expect(await fdsOn(dir.path)).toBe(1);
    await handles.beginFlush(); // used by the previous flush: kept
    expect(handles.size).toBe(1);
    await handles.beginFlush(); // the previous flush did not use it

    expect(handles.size).toBe(0);
    expect(await fdsOn(dir.path)).toBe(0);
    await dir.cleanup();
  });
});
