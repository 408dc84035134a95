import { describe, expect, it } from 'vitest';
import { LcError } from '@lc/core';
import type { FilePosition, PositionChanges } from '@lc/core';
import { createFakeClock, makeFilePosition } from '@lc/core/testing';
import { createMemoryPositionStore } from './memory-position-store.js';
import { createPositionManager } from './position-manager.js';

const file = (id: string): FilePosition => ({
  ...makeFilePosition(id, 0),
  path: '',
});
const settle = () => new Promise((r) => setImmediate(r));

/** A memory store whose saves can be made to fail, and that records them. */
function failingStore() {
  const store = createMemoryPositionStore();
  const save = store.save.bind(store);
  const saves: PositionChanges[] = [];
  const control = { fail: false };
  (store as { save: typeof store.save }).save = async (c) => {
    if (control.fail)
      throw new LcError({ code: 'LC_ERR_DISK_FULL', message: 'no space left' });
    saves.push(c);
    return save(c);
  };
  return { store, saves, control };
}

describe('createPositionManager saves', () => {
  describe('by default (flushIntervalMs 0)', () => {
    it('should save a commit on its own, without a timer tick', async () => {
      const clock = createFakeClock();
      const store = createMemoryPositionStore();
      const m = createPositionManager({ store, clock });
      await m.start();
      m.upsertFile(file('1:2'));
      m.commit({ kind: 'file', id: '1:2' }, { offset: 10, line: 1 });
      await settle();
      await settle();
      expect(store.positions.get('file:1:2')).toMatchObject({ offset: 10 });
      await m.shutdown();
    });

    it('should save the commits of one turn of the event loop together', async () => {
      const { store, saves } = failingStore();
      const m = createPositionManager({ store });
      await m.start();
      for (let i = 0; i < 50; i++)
        m.commit({ kind: 'file', id: `1:${i}` }, { offset: 10, line: 1 });
      expect(await m.whenSaved()).toBe(true);
      expect(saves).toHaveLength(1);
      expect(saves[0]?.upserts).toHaveLength(50);
      await m.shutdown();
    });

    it('should save changes made during a save in the next one', async () => {
      const { store, saves } = failingStore();
      const m = createPositionManager({ store });
      await m.start();
      m.commit({ kind: 'file', id: '1:1' }, { offset: 10, line: 1 });
      await settle(); // the first save is running
      m.commit({ kind: 'file', id: '1:1' }, { offset: 20, line: 2 });
      expect(await m.whenSaved()).toBe(true);
      expect(store.positions.get('file:1:1')).toMatchObject({ offset: 20 });
      expect(saves.length).toBeGreaterThanOrEqual(2);
      await m.shutdown();
    });
  });

  describe('whenSaved', () => {
    it('should resolve true at once when nothing is waiting', async () => {
      const m = createPositionManager({ store: createMemoryPositionStore() });
      await m.start();
      expect(await m.whenSaved()).toBe(true);
      await m.shutdown();
    });

    it('should wait for a manual flush when autoFlush is off', async () => {
      const { store } = failingStore();
      const m = createPositionManager({ store, autoFlush: false });
      await m.start();
      m.upsertFile(file('1:2'));
      let saved: boolean | undefined;
      void m.whenSaved().then((v) => (saved = v));
      await settle();
      expect(saved).toBeUndefined();
      await m.flush();
      await settle();
      expect(saved).toBe(true);
      await m.shutdown();
    });

    it('should resolve false when the save fails, and false at once while failing', async () => {
      const { store, control } = failingStore();
      const errors: unknown[] = [];
      const m = createPositionManager({
        store,
        onError: (e) => errors.push(e),
      });
      await m.start();
      control.fail = true;
      m.upsertFile(file('1:2'));
      expect(await m.whenSaved()).toBe(false);
      m.upsertFile(file('1:3'));
      expect(await m.whenSaved()).toBe(false);
      expect(errors).toHaveLength(1);
      await m.shutdown().catch(() => {});
    });
  });

  describe('a failing store', () => {
    it('should keep the changes, report it in stats and retry with backoff until it succeeds', async () => {
      const clock = createFakeClock();
      const { store, control } = failingStore();
      const errors: unknown[] = [];
      const m = createPositionManager({
        store,
        clock,
        onError: (e) => errors.push(e),
      });
      await m.start();
      control.fail = true;
      m.upsertFile(file('1:2'));
      await m.whenSaved();
      expect(m.stats()).toMatchObject({
        storeFailing: true,
        lastStoreError: expect.stringContaining('no space left') as string,
        dirty: 1,
      });
      expect(m.stats().storeFailingSinceMs).toBeGreaterThan(0);
      // Retries back off: 100 ms, 200 ms, ...; still failing, still one report.
      clock.advance(100);
      await settle();
      clock.advance(200);
      await settle();
      expect(errors).toHaveLength(1);
      expect(store.positions.size).toBe(0);
      control.fail = false;
      clock.advance(400);
      await settle();
      await settle();
      expect(store.positions.has('file:1:2')).toBe(true);
      expect(m.stats()).toMatchObject({
        storeFailing: false,
        storeFailingSinceMs: 0,
        dirty: 0,
      });
      expect(m.stats().lastStoreError).toBeUndefined();
      await m.shutdown();
    });
  });
});
