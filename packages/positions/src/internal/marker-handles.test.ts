import {
  open,
  readdir,
  readlink,
  rename,
  unlink,
  writeFile,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { observedFilePosition } from '../../test/support/observed-position.js';
import { computeOffsetMarker } from '../file-identity.js';
import { MarkerHandles } from './marker-handles.js';

/** File descriptors of this process that point into `dir`. */
async function fdsIn(dir: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir)) n++;
  }
  return n;
}

/**
 * Handles closed after 1000 ms idle, on a clock the test sets
 * (`clock.now`), whose idle sweeps run only when the test calls them.
 */
function sweptByHand(): {
  handles: MarkerHandles;
  sweeps: Array<() => void>;
  clock: { now: number };
} {
  const clock = { now: 0 };
  const sweeps: Array<() => void> = [];
  const handles = new MarkerHandles(
    1000,
    () => clock.now,
    (fn) => {
      sweeps.push(fn);
      return () => undefined;
    },
  );
  return { handles, sweeps, clock };
}

describe('MarkerHandles', () => {
  let dir: TempDir;
  let path: string;
  beforeEach(async () => {
    dir = await createTempDir('lc-marker-handles-');
    path = join(dir.path, 'app.log');
  });
  afterEach(() => dir.cleanup());

  it('should keep reading the same identity after a rename, and not read another file at the path', async () => {
    await writeFile(path, 'first generation line\n');
    const p = await observedFilePosition(path, 10);
    const handles = new MarkerHandles();
    const marker = (h: FileHandle) => computeOffsetMarker(h, 10);
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
  });

  it('should close a handle no flush used for idleMs, so a deleted file is not held open', async () => {
    await writeFile(path, 'some bytes to mark\n');
    const p = await observedFilePosition(path, 5);
    let now = 0;
    const handles = new MarkerHandles(1000, () => now);
    await handles.beginFlush();
    await handles.use(p, async () => 'x');
    await unlink(path);
    expect(await fdsIn(dir.path)).toBe(1);
    now = 999;
    await handles.beginFlush(); // used 999 ms ago: kept
    expect(handles.size).toBe(1);
    now = 1000;
    await handles.beginFlush(); // unused for idleMs
    expect(handles.size).toBe(0);
    expect(await fdsIn(dir.path)).toBe(0);
  });

  it('should close an idle handle with no further flush, so an idle agent does not hold a deleted file', async () => {
    await writeFile(path, 'some bytes to mark\n');
    const p = await observedFilePosition(path, 5);
    const { handles, sweeps, clock } = sweptByHand();
    await handles.beginFlush();
    await handles.use(p, async () => 'x');
    await unlink(path);
    expect(sweeps).toHaveLength(1);
    // No flush comes any more. The sweep at 999 ms keeps it (not idle long
    // enough) and re-arms; the one at 1000 ms closes it.
    clock.now = 999;
    sweeps.shift()?.();
    await vi.waitFor(() => expect(sweeps).toHaveLength(1));
    expect(handles.size).toBe(1);
    clock.now = 1000;
    sweeps.shift()?.();
    await vi.waitFor(() => expect(handles.size).toBe(0));
    expect(await fdsIn(dir.path)).toBe(0);
    expect(sweeps).toHaveLength(0); // nothing kept: no sweep armed
  });

  it('should not close a handle while a marker is being read with it', async () => {
    await writeFile(path, 'some bytes to mark\n');
    const p = await observedFilePosition(path, 5);
    const { handles, sweeps, clock } = sweptByHand();
    await handles.beginFlush();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const reading = handles.use(p, async (h) => {
      await held;
      return computeOffsetMarker(h, 5);
    });
    await vi.waitFor(() => expect(sweeps).toHaveLength(1));
    clock.now = 5000;
    sweeps.shift()?.();
    await vi.waitFor(() => expect(sweeps).toHaveLength(1)); // re-armed, kept
    expect(handles.size).toBe(1);
    release();
    const fresh = await open(path);
    const expected = await computeOffsetMarker(fresh, 5);
    await fresh.close();
    expect(await reading).toBe(expected);
    sweeps.shift()?.();
    await vi.waitFor(() => expect(handles.size).toBe(0));
  });

  it('should close idle handles on a real timer', async () => {
    await writeFile(path, 'some bytes to mark\n');
    const p = await observedFilePosition(path, 5);
    const handles = new MarkerHandles(50);
    await handles.beginFlush();
    await handles.use(p, async () => 'x');
    await unlink(path);
    expect(await fdsIn(dir.path)).toBe(1);
    await vi.waitFor(async () => expect(await fdsIn(dir.path)).toBe(0), {
      timeout: 30_000,
      interval: 20,
    });
    expect(handles.size).toBe(0);
  });
});
