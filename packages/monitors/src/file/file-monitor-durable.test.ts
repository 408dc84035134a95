import { appendFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FilePosition, PositionChanges } from '@lc/core';
import { createMemoryPositionStore } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fileHarness } from '../../test/file-harness.js';
import { fileWatchSince, recordFileWatches } from './record-file-watches.js';
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
      const started = h.monitor.start();
      // The watch marker is saved before any file is opened...
      await settle();
      expect(h.positions.list('file')).toHaveLength(0);
      await h.positions.flush();
      await started;
      await settle();
      // Recorded ("seen at offset 0") but not durable: nothing read yet.
      expect(h.positions.list('file')).toHaveLength(1);
      expect(h.intake.records).toHaveLength(0);
      await h.positions.flush();
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['one', 'two']);
    });

    it('should go on reading the other files while a new one waits for its save', async () => {
      h = await fileHarness({}, undefined, { autoFlush: false });
      const a = join(h.dir.path, 'a.log');
      writeFileSync(a, 'a1\n');
      const started = h.monitor.start();
      await settle();
      await h.positions.flush();
      await started;
      await settle();
      await h.positions.flush();
      await h.intake.waitFor(1);
      // A new file: recorded, not durable (saves are manual here).
      writeFileSync(join(h.dir.path, 'b.log'), 'b1\n');
      await eventually(
        () => h?.positions.list('file').length === 2,
        'b.log recorded',
      );
      // The waiting file must not hold back the pass: a.log goes on.
      appendFileSync(a, 'a2\n');
      await h.intake.waitFor(2);
      expect(h.lines()).toEqual(['a1', 'a2']);
      await h.positions.flush();
      await h.intake.waitFor(3);
      expect(h.lines()).toEqual(['a1', 'a2', 'b1']);
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

describe('recordFileWatches', () => {
  it('should let a monitor that finds no saved identity read the generations rotated away since the watch began', async () => {
    const first = await fileHarness();
    const { dir } = first;
    const live = join(dir.path, 'app.log');
    const pattern = `${dir.path}/**/*.log`;
    // An archive from before any agent watched: must stay unread.
    writeFileSync(`${live}.3`, 'old\n');
    utimesSync(
      `${live}.3`,
      new Date(Date.now() - 60_000),
      new Date(Date.now() - 60_000),
    );
    // A crash loop: each agent recorded the watch, none saved an identity.
    expect(
      recordFileWatches(first.positions, [pattern], Date.now() - 10_000),
    ).toBe(true);
    expect(recordFileWatches(first.positions, [pattern], Date.now())).toBe(
      false,
    );
    expect(fileWatchSince(first.positions, pattern)).toBeLessThan(
      Date.now() - 5_000,
    );
    h = await first.restart();
    // Meanwhile two generations were written and rotated away.
    writeFileSync(`${live}.2`, 'g1-a\ng1-b\n');
    writeFileSync(`${live}.1`, 'g2-a\n');
    writeFileSync(live, 'g3-a\n');
    await h.monitor.start();
    await h.intake.waitFor(4);
    await settle();
    expect(h.lines().sort()).toEqual(['g1-a', 'g1-b', 'g2-a', 'g3-a']);
  });
});

describe('a watched path gone at start-up', () => {
  it('should read the generations rotated away from it since the watch began, with no live file left', async () => {
    const first = await fileHarness();
    const { dir } = first;
    const pattern = `${dir.path}/**/*.log`;
    expect(
      recordFileWatches(first.positions, [pattern], Date.now() - 10_000),
    ).toBe(true);
    h = await first.restart();
    // Two generations written and rotated away; the writer then stopped
    // before creating app.log again.
    writeFileSync(join(dir.path, 'app.log.2'), 'g1\n');
    writeFileSync(join(dir.path, 'app.log.1'), 'g2\n');
    await h.monitor.start();
    await h.intake.waitFor(2);
    expect(h.lines().sort()).toEqual(['g1', 'g2']);
  });
});
