import {
  appendFile,
  open,
  rename,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FilePosition } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { observedFilePosition } from '../support/observed-position.js';
import {
  decideFileResume,
  findRotatedFile,
  observeFile,
} from '../../src/index.js';

/**
 * Real files on disk: what a monitor sees on restart after each rotation
 * style, and what decideFileResume makes of it.
 */
describe('decideFileResume', () => {
  let dir: TempDir;
  let path: string;
  beforeEach(async () => {
    dir = await createTempDir('lc-pos-rot-');
    path = join(dir.path, 'app.log');
  });
  afterEach(() => dir.cleanup());

  /** Save a position for `file` as committed at `offset` (the end by default). */
  const savePosition = (file: string, offset?: number): Promise<FilePosition> =>
    observedFilePosition(file, offset, { withMarker: true });

  async function decide(saved: FilePosition | undefined, file = path) {
    const handle = await open(file, 'r');
    try {
      return decideFileResume(saved, await observeFile(handle, file, saved));
    } finally {
      await handle.close();
    }
  }

  const lines = (prefix: string, n: number) =>
    Array.from(
      { length: n },
      (_, i) => `${prefix} line ${i} ${'x'.repeat(i % 7)}\n`,
    ).join('');

  it('should continue the same file that grew', async () => {
    await writeFile(path, lines('a', 5));
    const saved = await savePosition(path);
    await appendFile(path, lines('b', 200));
    expect(await decide(saved)).toEqual({
      action: 'continue',
      offset: saved.offset,
      reason: 'same-file',
    });
  });

  it('should start a new file at 0', async () => {
    await writeFile(path, lines('a', 5));
    expect(await decide(undefined)).toEqual({
      action: 'start',
      offset: 0,
      reason: 'new-file',
    });
  });

  it('should detect rename+create and find the old file to finish it', async () => {
    await writeFile(path, lines('a', 50));
    const saved = await savePosition(path, 100);
    await rename(path, `${path}.1`);
    await writeFile(path, lines('a', 3)); // same first line as the old file
    expect(await decide(saved)).toMatchObject({
      action: 'start',
      offset: 0,
      reason: 'rotated',
    });
    expect(await findRotatedFile(saved, dir.path)).toBe(`${path}.1`);
    expect(await decide(saved, `${path}.1`)).toEqual({
      action: 'continue',
      offset: 100,
      reason: 'same-file',
    });
  });

  it('should report a rotated file that is gone as not found', async () => {
    await writeFile(path, lines('a', 5));
    const saved = await savePosition(path);
    await rm(path);
    expect(await findRotatedFile(saved, dir.path)).toBeUndefined();
  });

  it('should detect a plain truncate below the offset', async () => {
    await writeFile(path, lines('a', 50));
    const saved = await savePosition(path);
    await truncate(path, 0);
    await appendFile(path, lines('a', 2));
    expect(await decide(saved)).toMatchObject({
      action: 'start',
      offset: 0,
      reason: 'truncated',
    });
  });

  it('should detect copytruncate refilled past the old offset (same head, different tail)', async () => {
    const head = 'HEADER same first lines for both generations\n'.repeat(30); // > 1024 bytes
    await writeFile(path, head + lines('old', 20));
    const saved = await savePosition(path);
    await writeFile(`${path}.1`, head + lines('old', 20)); // the copy
    await truncate(path, 0);
    await appendFile(path, head + lines('new', 40));
    const d = await decide(saved);
    expect(d).toMatchObject({
      action: 'start',
      offset: 0,
      reason: 'copytruncate',
    });
  });

  it('should detect a reused inode holding a different file', async () => {
    await writeFile(path, lines('a', 50));
    const saved = await savePosition(path, 120);
    // Simulate the kernel handing the inode to a new file: same dev/ino, other content.
    const handle = await open(path, 'r+');
    await handle.truncate(0);
    await handle.write(lines('totally different', 60), 0);
    await handle.close();
    expect(await decide(saved)).toMatchObject({
      action: 'start',
      offset: 0,
      reason: 'inode-reused',
    });
  });

  it('should treat delete+recreate (new inode) at the same path as a rotation', async () => {
    await writeFile(path, lines('a', 50));
    const saved = await savePosition(path);
    const keep = `${path}.keep`; // hold the old inode so the new file gets another
    await rename(path, keep);
    await writeFile(path, lines('a', 50));
    const before = await stat(keep);
    const after = await stat(path);
    expect(after.ino).not.toBe(before.ino);
    expect(await decide(saved)).toMatchObject({
      action: 'start',
      reason: 'rotated',
    });
  });

  it("should not resume a deleted file's offset in a new file that got its inode", async () => {
    await writeFile(path, lines('first generation', 40));
    const saved = await savePosition(path, 200);
    await rm(path);
    await writeFile(path, lines('second generation', 60));
    const now = await stat(path, { bigint: true });
    const d = await decide(saved);
    expect(d.action).toBe('start');
    expect(d.offset).toBe(0);
    // ext4/tmpfs hand the freed inode straight back; elsewhere it is a new identity.
    const reused = now.ino.toString() === saved.ino;
    expect(d.reason).toBe(reused ? 'inode-reused' : 'rotated');
  });

  it('should tell apart two files with identical first lines by identity', async () => {
    const other = join(dir.path, 'other.log');
    await writeFile(path, lines('same', 80));
    await writeFile(other, lines('same', 80));
    const a = await savePosition(path, 100);
    const b = await savePosition(other, 300);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.id).not.toBe(b.id);
    expect(await decide(a)).toMatchObject({ action: 'continue', offset: 100 });
    expect(await decide(b, other)).toMatchObject({
      action: 'continue',
      offset: 300,
    });
    expect(await findRotatedFile(a, dir.path)).toBe(path);
  });

  it('should continue an empty file that later got content', async () => {
    await writeFile(path, '');
    const saved = await savePosition(path);
    expect(saved.fingerprintBytes).toBe(0);
    await appendFile(path, lines('a', 3));
    expect(await decide(saved)).toEqual({
      action: 'continue',
      offset: 0,
      reason: 'same-file',
    });
  });

  it('should continue a short file whose head grew past the saved fingerprint', async () => {
    await writeFile(path, 'short\n');
    const saved = await savePosition(path);
    await appendFile(path, lines('more', 100));
    expect(await decide(saved)).toEqual({
      action: 'continue',
      offset: 6,
      reason: 'same-file',
    });
  });
});
