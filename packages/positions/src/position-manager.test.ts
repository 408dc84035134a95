import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { LcError } from '@lc/core';
import type { ContainerPosition, FilePosition, Logger } from '@lc/core';
import {
  createFakeClock,
  makeContainerPosition,
  makeFilePosition,
} from '@lc/core/testing';
import { createMemoryPositionStore } from './memory-position-store.js';
import { createPositionManager } from './position-manager.js';

const file = (id: string, offset = 0): FilePosition => ({
  ...makeFilePosition(id, offset),
  path: '',
});
const container = (id: string): ContainerPosition => ({
  ...makeContainerPosition(id),
  lastTimestampNs: '',
  lastLineHash: '',
  linesAtLastTimestamp: 0,
  status: 'running',
});

function setup(
  extra: Partial<Parameters<typeof createPositionManager>[0]> = {},
) {
  const clock = createFakeClock();
  const store = createMemoryPositionStore();
  const registry = new Registry();
  const manager = createPositionManager({
    store,
    clock,
    registry,
    flushIntervalMs: 1000,
    ...extra,
  });
  return { clock, store, registry, manager };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('createPositionManager', () => {
  it('should reject a missing store with LC_ERR_INVALID_OPTION', () => {
    expect(() => createPositionManager({} as never)).toThrow(
      expect.objectContaining({ code: 'LC_ERR_INVALID_OPTION' }) as Error,
    );
  });

  it('should reject a negative flushIntervalMs naming the option', () => {
    const store = createMemoryPositionStore();
    try {
      createPositionManager({ store, flushIntervalMs: -1 });
      expect.unreachable();
    } catch (e) {
      expect(LcError.isInstance(e, 'LC_ERR_INVALID_OPTION')).toBe(true);
      expect((e as Error).message).toContain('flushIntervalMs');
    }
  });

  describe('start', () => {
    it('should load the positions held by the store', async () => {
      const store = createMemoryPositionStore([makeFilePosition('1:2', 50)]);
      const m = createPositionManager({ store });
      await m.start();
      expect(m.get('file', '1:2')).toMatchObject({ offset: 50 });
      await m.shutdown();
    });
  });

  describe('commit', () => {
    it('should move a file offset forward and never backwards', async () => {
      const { manager } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 100, line: 3 });
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 40, line: 1 });
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 100, line: 3 });
      expect(manager.get('file', '1:2')).toMatchObject({
        offset: 100,
        logCount: 3,
        bytesRead: 100,
      });
      expect(manager.stats().staleCommits).toBe(2);
      await manager.shutdown();
    });

    it('should order container cursors by timestamp then by lines at that timestamp', async () => {
      const { manager } = setup();
      await manager.start();
      const id = 'a'.repeat(64);
      manager.upsertContainer(container(id));
      const src = { kind: 'container', id };
      manager.commit(src, {
        timestampNs: '1700000000000000002',
        lineHash: 'h1',
        linesAtTimestamp: 1,
      });
      manager.commit(src, {
        timestampNs: '1700000000000000002',
        lineHash: 'h2',
        linesAtTimestamp: 2,
      });
      manager.commit(src, {
        timestampNs: '1700000000000000001',
        lineHash: 'old',
        linesAtTimestamp: 9,
      });
      manager.commit(src, {
        timestampNs: '1700000000000000002',
        lineHash: 'h1',
        linesAtTimestamp: 1,
      });
      expect(manager.get('container', id)).toMatchObject({
        lastTimestampNs: '1700000000000000002',
        lastLineHash: 'h2',
        linesAtLastTimestamp: 2,
      });
      // 19-digit timestamps differ only beyond 2^53: compared exactly.
      manager.commit(src, {
        timestampNs: '1700000000000000003',
        lineHash: 'h3',
        linesAtTimestamp: 1,
      });
      expect(manager.get('container', id)).toMatchObject({
        lastTimestampNs: '1700000000000000003',
      });
      await manager.shutdown();
    });

    it('should store any cursor for custom kinds', async () => {
      const { manager } = setup();
      await manager.start();
      manager.commit({ kind: 'journald', id: 'b1' }, { c: 's=1' });
      expect(manager.get('journald', 'b1')).toMatchObject({
        cursor: { c: 's=1' },
      });
      await manager.shutdown();
    });

    it('should ignore and count a malformed file cursor', async () => {
      const { manager, registry } = setup();
      await manager.start();
      manager.commit({ kind: 'file', id: '1:2' }, { offset: -1, line: 0 });
      expect(manager.get('file', '1:2')).toBeUndefined();
      expect(
        await registry.getSingleMetricAsString('lc_positions_errors_total'),
      ).toContain('type="cursor"} 1');
      await manager.shutdown();
    });

    it('should ignore commits for a removed source', async () => {
      const { manager } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.remove('file', '1:2');
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 10, line: 1 });
      expect(manager.get('file', '1:2')).toBeUndefined();
      await manager.shutdown();
    });
  });

  describe('upsertFile', () => {
    it('should refresh metadata but keep the committed offset', async () => {
      const { manager } = setup();
      await manager.start();
      manager.upsertFile(file('1:2', 0));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 70, line: 7 });
      manager.upsertFile({
        ...file('1:2', 0),
        path: '/new/path',
        size: 999,
        offset: 5,
      });
      expect(manager.get('file', '1:2')).toMatchObject({
        offset: 70,
        path: '/new/path',
        size: 999,
      });
      manager.upsertFile({ ...file('1:2', 0), offset: 500 });
      expect(manager.get('file', '1:2')).toMatchObject({ offset: 70 });
      await manager.shutdown();
    });
  });

  describe('reset', () => {
    it('should be the only way back, counted by reason', async () => {
      const { manager, registry } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 70, line: 7 });
      manager.reset('file', '1:2', 'copytruncate');
      expect(manager.get('file', '1:2')).toMatchObject({
        offset: 0,
        offsetMarker: '',
      });
      manager.commit(
        { kind: 'file', id: '1:2' },
        { offset: 10, line: 1, epoch: 1 },
      );
      expect(manager.get('file', '1:2')).toMatchObject({
        offset: 10,
        bytesRead: 80,
        epoch: 1,
      });
      expect(
        await registry.getSingleMetricAsString('lc_positions_resets_total'),
      ).toContain('reason="copytruncate"} 1');
      await manager.shutdown();
    });

    it('should ignore commits read before the reset (older epoch) whatever their offset', async () => {
      const { manager, store } = setup();
      await manager.start();
      const src = { kind: 'file', id: '1:2' };
      manager.upsertFile(file('1:2'));
      manager.commit(src, { offset: 70, line: 7 });
      manager.reset('file', '1:2', 'copytruncate');
      // Acks of the old content landing after the truncation.
      manager.commit(src, { offset: 90, line: 9 });
      manager.commit(src, { offset: 95, line: 10, epoch: 0 });
      expect(manager.get('file', '1:2')).toMatchObject({ offset: 0, epoch: 1 });
      manager.commit(src, { offset: 20, line: 2, epoch: 1 });
      manager.commit(src, { offset: 15, line: 1, epoch: 1 });
      manager.upsertFile({ ...file('1:2'), size: 40, epoch: 0 });
      expect(manager.get('file', '1:2')).toMatchObject({
        offset: 20,
        logCount: 2,
        size: 40,
        epoch: 1,
      });
      expect(manager.stats().staleCommits).toBe(3);
      // A second reset; a newer epoch is taken whatever its offset.
      manager.reset('file', '1:2', 'truncated');
      manager.commit(src, { offset: 30, line: 3, epoch: 1 });
      manager.commit(src, { offset: 5, line: 1, epoch: 2 });
      expect(manager.get('file', '1:2')).toMatchObject({ offset: 5, epoch: 2 });
      await manager.flush();
      expect((await store.load())[0]).toMatchObject({ offset: 5, epoch: 2 });
      await manager.shutdown();
    });

    it('should send commits from before the reset to movedTo (the copy)', async () => {
      const { manager } = setup();
      await manager.start();
      const live = { kind: 'file', id: '1:2' };
      manager.upsertFile(file('1:2'));
      manager.commit(live, { offset: 70, line: 7 });
      manager.upsertFile(file('1:9', 70)); // the copy, from the last commit
      manager.reset('file', '1:2', 'copytruncate', { movedTo: '1:9' });
      manager.commit(live, { offset: 90, line: 9 }); // in flight at the reset
      manager.commit(live, { offset: 12, line: 1, epoch: 1 });
      expect(manager.get('file', '1:9')).toMatchObject({
        offset: 90,
        logCount: 9,
      });
      expect(manager.get('file', '1:9')).not.toHaveProperty('epoch');
      expect(manager.get('file', '1:2')).toMatchObject({
        offset: 12,
        epoch: 1,
      });
      // Another reset without a copy: epoch 1 commits are dropped, epoch 0
      // ones still reach the first copy.
      manager.reset('file', '1:2', 'truncated');
      manager.commit(live, { offset: 30, line: 3, epoch: 1 });
      manager.commit(live, { offset: 95, line: 10 });
      expect(manager.get('file', '1:2')).toMatchObject({ offset: 0, epoch: 2 });
      expect(manager.get('file', '1:9')).toMatchObject({ offset: 95 });
      await manager.shutdown();
    });

    it('should carry commits made before the reset over to movedTo', async () => {
      const { manager } = setup();
      await manager.start();
      const live = { kind: 'file', id: '1:2' };
      manager.upsertFile(file('1:2'));
      manager.commit(live, { offset: 70, line: 7 });
      manager.upsertFile(file('1:9', 70)); // the copy, found at offset 70
      // An acknowledgement lands before the live identity is reset.
      manager.commit(live, { offset: 80, line: 8 });
      manager.reset('file', '1:2', 'copytruncate', { movedTo: '1:9' });
      expect(manager.get('file', '1:9')).toMatchObject({
        offset: 80,
        logCount: 8,
      });
      await manager.shutdown();
    });

    it('should leave the epoch out of positions never reset', async () => {
      const { manager } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 10, line: 1 });
      expect(manager.get('file', '1:2')).not.toHaveProperty('epoch');
      await manager.shutdown();
    });
  });

  describe('flush', () => {
    it('should persist on the flush interval', async () => {
      const { manager, store, clock } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 10, line: 1 });
      expect(store.positions.size).toBe(0);
      clock.advance(1000);
      await settle();
      await manager.flush();
      expect(store.positions.get('file:1:2')).toMatchObject({ offset: 10 });
      await manager.shutdown();
    });

    it('should flush after flushEveryUpdates updates', async () => {
      const { manager, store } = setup({
        autoFlush: false,
        flushEveryUpdates: 3,
      });
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 10, line: 1 });
      await settle();
      expect(store.saveCount).toBe(0);
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 20, line: 2 });
      await manager.flush();
      expect(store.positions.get('file:1:2')).toMatchObject({ offset: 20 });
      await manager.shutdown();
    });

    it('should persist deletions', async () => {
      const { manager, store } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      await manager.flush();
      manager.remove('file', '1:2');
      await manager.flush();
      expect(store.positions.size).toBe(0);
      await manager.shutdown();
    });

    it('should keep changes dirty and reject when the store fails', async () => {
      const { manager, store } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      const save = store.save.bind(store);
      let fail = true;
      (store as { save: typeof store.save }).save = async (c) => {
        if (fail)
          throw new LcError({
            code: 'LC_ERR_POSITIONS_IO',
            message: 'disk gone',
          });
        return save(c);
      };
      await expect(manager.flush()).rejects.toThrow('disk gone');
      expect(manager.stats()).toMatchObject({ flushErrors: 1, dirty: 1 });
      fail = false;
      await manager.flush();
      expect(store.positions.has('file:1:2')).toBe(true);
      await manager.shutdown();
    });
  });

  describe('cleanup', () => {
    it('should remove gone sources after maxPositionAgeMs but keep stopped containers', async () => {
      const { manager, clock, store } = setup({
        maxPositionAgeMs: 10_000,
        cleanupIntervalMs: 1000,
      });
      await manager.start();
      manager.upsertFile({ ...file('1:1'), status: 'deleted' });
      manager.upsertFile({ ...file('1:2'), status: 'idle' });
      manager.upsertContainer({
        ...container('s'.repeat(64)),
        status: 'stopped',
      });
      manager.upsertContainer({
        ...container('d'.repeat(64)),
        status: 'destroyed',
      });
      clock.advance(12_000);
      await settle();
      expect(
        manager
          .list()
          .map((p) => p.id)
          .sort(),
      ).toEqual(['1:2', 's'.repeat(64)]);
      expect(manager.stats().evictions).toBe(2);
      await manager.flush();
      expect([...store.positions.keys()].sort()).toEqual([
        'container:' + 's'.repeat(64),
        'file:1:2',
      ]);
      await manager.shutdown();
    });
  });

  describe('maxPositions', () => {
    it('should evict the oldest inactive positions and never active ones', async () => {
      const { manager, clock } = setup({ maxPositions: 10 });
      await manager.start();
      for (let i = 0; i < 5; i++) {
        manager.upsertFile({ ...file(`1:${i}`), status: 'active' });
        clock.advance(1);
      }
      for (let i = 5; i < 11; i++) {
        manager.upsertFile({ ...file(`1:${i}`), status: 'idle' });
        clock.advance(1);
      }
      const ids = manager.list().map((p) => p.id);
      expect(ids.length).toBe(9);
      for (let i = 0; i < 5; i++) expect(ids).toContain(`1:${i}`);
      expect(ids).not.toContain('1:5');
      expect(ids).not.toContain('1:6');
      expect(manager.stats().evictions).toBe(2);
      await manager.shutdown();
    });
  });

  describe('maxPositions with only active sources', () => {
    it('should keep every active position and warn once per 10 % of growth', async () => {
      const warnings: string[] = [];
      const logger: Logger = {
        trace: () => {},
        debug: () => {},
        info: () => {},
        warn: (o: object | string, msg?: string) =>
          void warnings.push(msg ?? String(o)),
        error: () => {},
        fatal: () => {},
        child: () => logger,
      };
      const { manager } = setup({ maxPositions: 10, logger });
      await manager.start();
      for (let i = 0; i < 30; i++)
        manager.upsertFile({ ...file(`1:${i}`), status: 'active' });
      expect(manager.list()).toHaveLength(30);
      expect(manager.stats().evictions).toBe(0);
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.length).toBeLessThan(20);
      await manager.shutdown();
    });
  });

  describe('background flush', () => {
    it('should send store errors to onError and retry on the next interval', async () => {
      const errors: unknown[] = [];
      const { manager, store, clock } = setup({
        onError: (e) => errors.push(e),
      });
      await manager.start();
      const save = store.save.bind(store);
      let fail = true;
      (store as { save: typeof store.save }).save = async (c) => {
        if (fail)
          throw new LcError({
            code: 'LC_ERR_POSITIONS_IO',
            message: 'redis down',
          });
        return save(c);
      };
      manager.upsertFile(file('1:2'));
      clock.advance(1000);
      await settle();
      await settle();
      expect(errors).toHaveLength(1);
      expect(LcError.isInstance(errors[0], 'LC_ERR_POSITIONS_IO')).toBe(true);
      fail = false;
      clock.advance(1000);
      await settle();
      await settle();
      expect(store.positions.has('file:1:2')).toBe(true);
      await manager.shutdown();
    });
  });

  describe('shutdown', () => {
    it('should flush, close the store, and ignore later updates', async () => {
      const { manager, store } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 5, line: 1 });
      await manager.shutdown();
      await manager.shutdown();
      expect(store.positions.get('file:1:2')).toMatchObject({ offset: 5 });
      manager.commit({ kind: 'file', id: '1:2' }, { offset: 50, line: 2 });
      expect(manager.get('file', '1:2')).toMatchObject({ offset: 5 });
      await manager.flush();
      await expect(store.load()).rejects.toSatisfy((e: unknown) =>
        LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
    });
  });

  describe('stats', () => {
    it('should count positions by kind', async () => {
      const { manager, registry } = setup();
      await manager.start();
      manager.upsertFile(file('1:2'));
      manager.upsertContainer(container('c'.repeat(64)));
      expect(manager.stats()).toMatchObject({
        positions: 2,
        positionsByKind: { file: 1, container: 1 },
      });
      expect(
        await registry.getSingleMetricAsString('lc_positions_total'),
      ).toContain('kind="file"} 1');
      await manager.shutdown();
    });
  });
});
