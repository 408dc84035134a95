import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FilePosition, PositionChanges } from '@lc/core';
import { createMemoryPositionStore } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fileHarness } from '../../test/file-harness.js';
import type { FileHarness } from '../../test/file-harness.js';

let h: FileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('createFileMonitor', () => {
  describe('identity durability', () => {
    it('should not read a new file before its identity is saved', async () => {
      h = await fileHarness({}, undefined, { autoFlush: false });
      writeFileSync(join(h.dir.path, 'app.log'), 'one\ntwo\n');
      await h.monitor.start();
      await settle();
      // Recorded ("seen at offset 0") but not durable: nothing read yet.
      expect(h.positions.list('file')).toHaveLength(1);
      expect(h.intake.records).toHaveLength(0);
      await h.positions.flush();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['one', 'two']);
    });

    it('should save a file found later before reading it, and every identity at offset 0 first', async () => {
      const store = createMemoryPositionStore();
      const saves: PositionChanges[] = [];
      const save = store.save.bind(store);
      (store as { save: typeof store.save }).save = async (c) => {
        saves.push(c);
        return save(c);
      };
      const dir = await createTempDir('lc-fm-');
      h = await fileHarness({}, { dir, store });
      await h.monitor.start();
      writeFileSync(join(dir.path, 'late.log'), 'a\nb\n');
      await h.intake.waitFor(2);
      // The first save naming the identity holds it at offset 0, before
      // any commit of its lines.
      const first = saves
        .flatMap((c) => c.upserts)
        .find((p) => p.kind === 'file');
      expect(first).toMatchObject({
        offset: 0,
        path: join(dir.path, 'late.log'),
      });
      // Renamed away at once: the saved identity is what lets a restart find it.
      renameSync(join(dir.path, 'late.log'), join(dir.path, 'late.log.1'));
      await eventually(
        () =>
          saves.some((c) =>
            c.upserts.some(
              (p) =>
                p.kind === 'file' && (p as FilePosition).status === 'rotated',
            ),
          ),
        'the rename saved',
      );
    });
  });
});
