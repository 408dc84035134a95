import { appendFile, open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FilePosition } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { observedFilePosition } from '../support/observed-position.js';
import {
  computeOffsetMarker,
  createJsonFilePositionStore,
  createPositionManager,
  decideFileResume,
  observeFile,
} from '../../src/index.js';

/**
 * The dispatcher's commit carries only {offset, line}: the manager reads the
 * bytes before the offset at flush time, so a restart can prove the file
 * still holds what was delivered.
 */
describe('createPositionManager offset markers (real files)', () => {
  let dir: TempDir;
  let log: string;
  let positions: string;
  beforeEach(async () => {
    dir = await createTempDir('lc-pos-mark-');
    log = join(dir.path, 'app.log');
    positions = join(dir.path, 'positions.json');
  });
  afterEach(() => dir.cleanup());

  const header = 'same header line\n'.repeat(80);

  async function runAgent(committedOffset: number): Promise<FilePosition> {
    const manager = createPositionManager({
      store: createJsonFilePositionStore({ path: positions }),
    });
    await manager.start();
    const observed = await observedFilePosition(log, 0);
    const id = observed.id;
    manager.upsertFile(observed);
    manager.commit({ kind: 'file', id }, { offset: committedOffset, line: 90 });
    await manager.shutdown();
    const again = createJsonFilePositionStore({ path: positions });
    const [saved] = (await again.load()) as FilePosition[];
    await again.close();
    return saved as FilePosition;
  }

  async function decide(saved: FilePosition) {
    const handle = await open(log, 'r');
    try {
      return decideFileResume(saved, await observeFile(handle, log, saved));
    } finally {
      await handle.close();
    }
  }

  it('should store the marker of the bytes before the committed offset', async () => {
    await writeFile(log, header + 'tail a\ntail b\n');
    const offset = header.length + 7;
    const saved = await runAgent(offset);
    const handle = await open(log, 'r');
    expect(saved.offsetMarker).toBe(await computeOffsetMarker(handle, offset));
    await handle.close();
    expect(saved.offsetMarker).not.toBe('');
    expect(await decide(saved)).toEqual({
      action: 'continue',
      offset,
      reason: 'same-file',
    });
  });

  it('should let a restart detect copytruncate that refilled the file past the offset', async () => {
    await writeFile(log, header + 'old 1\nold 2\n');
    const saved = await runAgent(header.length + 12);
    await truncate(log, 0);
    await appendFile(log, header + 'new 1\nnew 2\nnew 3\n');
    expect(await decide(saved)).toMatchObject({
      action: 'start',
      offset: 0,
      reason: 'copytruncate',
    });
  });

  it('should save without a marker when the path now holds another identity', async () => {
    await writeFile(log, header + 'a\n');
    const manager = createPositionManager({
      store: createJsonFilePositionStore({ path: positions }),
    });
    await manager.start();
    manager.upsertFile({
      kind: 'file',
      id: '1:1',
      path: log,
      dev: '1',
      ino: '1',
      fingerprint: '',
      fingerprintBytes: 0,
      offset: 0,
      offsetMarker: '',
      size: 0,
      mtimeMs: 0,
      lastReadAtMs: 0,
      logCount: 0,
      bytesRead: 0,
      status: 'active',
      updatedAtMs: 0,
    });
    manager.commit({ kind: 'file', id: '1:1' }, { offset: 10, line: 1 });
    await manager.shutdown();
    const again = createJsonFilePositionStore({ path: positions });
    expect(await again.load()).toEqual([
      expect.objectContaining({ offset: 10, offsetMarker: '' }),
    ]);
    await again.close();
  });
});
