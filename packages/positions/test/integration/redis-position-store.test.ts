import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  describePositionStoreContract,
  makeContainerPosition,
  makeFilePosition,
} from '@lc/core/testing';
import { serviceEnv, skipWithout } from '@lc/test-utils';
import {
  createPositionManager,
  createRedisPositionStore,
} from '../../src/index.js';

const skip = await skipWithout('redis');
const url = serviceEnv().redisUrl ?? 'redis://127.0.0.1:6399';
const ns = () => `lc-test:${randomBytes(6).toString('hex')}`;

async function dropNamespace(namespace: string): Promise<void> {
  const admin = new Redis(url);
  try {
    const keys = await admin.keys(`${namespace}:*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    await admin.quit();
  }
}

describe.skipIf(skip)('createRedisPositionStore (real redis)', () => {
  describePositionStoreContract('redis', () => {
    const namespace = ns();
    return {
      store: createRedisPositionStore({ url, namespace }),
      reopen: async () => createRedisPositionStore({ url, namespace }),
      cleanup: () => dropNamespace(namespace),
    };
  });

  describe('save', () => {
    let admin: Redis;
    beforeAll(() => {
      admin = new Redis(url);
    });
    afterAll(async () => {
      await admin.quit();
    });

    it('should keep one hash per namespace, field per position', async () => {
      const namespace = ns();
      const store = createRedisPositionStore({ url, namespace });
      await store.save({
        upserts: [
          makeFilePosition('a', 10),
          makeContainerPosition('c'.repeat(64)),
        ],
      });
      expect(await admin.type(`${namespace}:positions`)).toBe('hash');
      expect((await admin.hkeys(`${namespace}:positions`)).sort()).toEqual([
        'container:' + 'c'.repeat(64),
        'file:a',
      ]);
      await store.close();
      await dropNamespace(namespace);
    });

    it('should apply a multi-key save atomically for a concurrent reader', async () => {
      const namespace = ns();
      const store = createRedisPositionStore({ url, namespace });
      const ids = Array.from({ length: 50 }, (_, i) => `f${i}`);
      let stop = false;
      const torn: number[] = [];
      const reader = (async () => {
        while (!stop) {
          const all = await admin.hgetall(`${namespace}:positions`);
          const offsets = new Set(
            Object.values(all).map(
              (v) => (JSON.parse(v) as { offset: number }).offset,
            ),
          );
          if (offsets.size > 1) torn.push(offsets.size);
        }
      })();
      for (let round = 1; round <= 40; round++) {
        await store.save({
          upserts: ids.map((id) => makeFilePosition(id, round * 10)),
        });
      }
      stop = true;
      await reader;
      expect(torn).toEqual([]);
      expect(
        new Set(
          (await store.load()).map((p) => (p as { offset: number }).offset),
        ),
      ).toEqual(new Set([400]));
      await store.close();
      await dropNamespace(namespace);
    });

    it('should keep backupCount backups and restore a chosen one', async () => {
      const namespace = ns();
      const store = createRedisPositionStore({
        url,
        namespace,
        backupCount: 2,
      });
      const ids: string[] = [];
      for (let i = 1; i <= 4; i++) {
        await store.save({ upserts: [makeFilePosition('a', i * 10)] });
        ids.push((await store.backup()).id);
      }
      const list = (await store.listBackups()).map((b) => b.id);
      expect(list).toEqual([ids[3], ids[2]]);
      expect((await admin.keys(`${namespace}:positions:backup:*`)).length).toBe(
        2,
      );
      await store.restore(ids[2]);
      expect(await store.load()).toEqual([makeFilePosition('a', 30)]);
      await store.close();
      await dropNamespace(namespace);
    });

    it('should skip and count a corrupt entry on load', async () => {
      const namespace = ns();
      const registry = new Registry();
      const store = createRedisPositionStore({ url, namespace, registry });
      await store.save({ upserts: [makeFilePosition('a', 10)] });
      await admin.hset(`${namespace}:positions`, 'file:b', '{"kind":"fi');
      expect((await store.load()).map((p) => p.id)).toEqual(['a']);
      expect(
        await registry.getSingleMetricAsString(
          'lc_positions_corruption_detected_total',
        ),
      ).toContain('store="redis"} 1');
      await store.close();
      await dropNamespace(namespace);
    });

    it('should share positions between two agents on the same namespace', async () => {
      const namespace = ns();
      const a = createPositionManager({
        store: createRedisPositionStore({ url, namespace }),
        autoFlush: false,
      });
      await a.start();
      a.commit(
        { kind: 'container', id: 'e'.repeat(64) },
        { timestampNs: '17', lineHash: 'h', linesAtTimestamp: 1 },
      );
      await a.shutdown();
      const b = createPositionManager({
        store: createRedisPositionStore({ url, namespace }),
        autoFlush: false,
      });
      await b.start();
      expect(b.get('container', 'e'.repeat(64))).toMatchObject({
        lastTimestampNs: '17',
        lastLineHash: 'h',
      });
      await b.shutdown();
      await dropNamespace(namespace);
    });
  });
});
