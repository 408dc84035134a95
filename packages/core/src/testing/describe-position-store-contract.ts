import { afterEach, describe, expect, it } from 'vitest';
import { LcError } from '../lc-error.js';
import { positionKey } from '../position.js';
import type { ContainerPosition, FilePosition, Position } from '../position.js';
import type { PositionStore } from '../position-store.js';

/** What the position store contract suite needs from a factory. */
export interface PositionStoreContractSubject {
  store: PositionStore;
  /**
   * Open a new store instance on the same storage (a restart), after the
   * suite closed the first one. Enables the durability tests.
   */
  reopen?: () => Promise<PositionStore>;
  /** Release whatever the factory created. */
  cleanup?: () => Promise<void>;
}

/** A file position for tests. */
export function makeFilePosition(id: string, offset: number): FilePosition {
  return {
    kind: 'file',
    id,
    path: `/var/log/${id}.log`,
    dev: '2049',
    ino: String(1000 + id.length),
    fingerprint: 'ab'.repeat(8),
    fingerprintBytes: 1024,
    offset,
    offsetMarker: offset === 0 ? '' : 'cd'.repeat(8),
    size: offset + 10,
    mtimeMs: 1_700_000_000_000,
    lastReadAtMs: 1_700_000_000_000,
    logCount: offset / 10,
    bytesRead: offset,
    status: 'active',
    updatedAtMs: 1_700_000_000_000,
  };
}

/** A container position for tests. */
export function makeContainerPosition(id: string): ContainerPosition {
  return {
    kind: 'container',
    id,
    name: `c-${id.slice(0, 6)}`,
    image: 'lc-test/busybox',
    lastTimestampNs: '1700000000123456789',
    lastLineHash: 'ef'.repeat(8),
    linesAtLastTimestamp: 2,
    logCount: 42,
    bytesRead: 4200,
    status: 'stopped',
    updatedAtMs: 1_700_000_000_000,
  };
}

const byKey = (positions: readonly Position[]): Map<string, Position> =>
  new Map(positions.map((p) => [positionKey(p), p]));

/**
 * The conformance suite every {@link PositionStore} must pass.
 *
 * @example
 * describePositionStoreContract('redis', async () => ({ store: await open() }));
 */
export function describePositionStoreContract(
  name: string,
  factory: () =>
    PositionStoreContractSubject | Promise<PositionStoreContractSubject>,
): void {
  describe(`PositionStore contract: ${name}`, () => {
    let subject: PositionStoreContractSubject | undefined;
    const extra: PositionStore[] = [];
    const make = async (): Promise<PositionStoreContractSubject> => {
      subject = await factory();
      return subject;
    };
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
      await subject?.store.close();
      await subject?.cleanup?.();
      subject = undefined;
    });

    it('should load nothing from an empty store', async () => {
      const { store } = await make();
      expect(await store.load()).toEqual([]);
    });

    it('should load exactly what was saved', async () => {
      const { store } = await make();
      const a = makeFilePosition('a', 100);
      const c = makeContainerPosition('c'.repeat(64));
      await store.save({ upserts: [a, c] });
      expect(byKey(await store.load())).toEqual(byKey([a, c]));
    });

    it('should replace on upsert and remove on delete', async () => {
      const { store } = await make();
      await store.save({
        upserts: [makeFilePosition('a', 10), makeFilePosition('b', 20)],
      });
      const a2 = makeFilePosition('a', 30);
      await store.save({ upserts: [a2], deletes: ['file:b'] });
      expect(byKey(await store.load())).toEqual(byKey([a2]));
    });

    it('should apply deletes of unknown keys as no-ops', async () => {
      const { store } = await make();
      await store.save({ upserts: [], deletes: ['file:none'] });
      expect(await store.load()).toEqual([]);
    });

    it('should keep custom position kinds intact', async () => {
      const { store } = await make();
      const custom: Position = {
        kind: 'journald',
        id: 'boot-1',
        cursor: { c: 's=abc;i=42', n: [1, 2] },
        updatedAtMs: 5,
      };
      await store.save({ upserts: [custom] });
      expect(await store.load()).toEqual([custom]);
    });

    it('should restore the newest backup', async () => {
      const { store } = await make();
      const a = makeFilePosition('a', 10);
      await store.save({ upserts: [a] });
      const backup = await store.backup();
      expect(typeof backup.id).toBe('string');
      await store.save({
        upserts: [makeFilePosition('a', 99), makeFilePosition('z', 1)],
      });
      const list = await store.listBackups();
      expect(list.map((b) => b.id)).toContain(backup.id);
      await store.restore();
      expect(byKey(await store.load())).toEqual(byKey([a]));
    });

    it('should reject restore of an unknown backup id', async () => {
      const { store } = await make();
      await expect(store.restore('no-such-backup')).rejects.toSatisfy(
        (e: unknown) => LcError.isInstance(e),
      );
    });

    it('should keep saved positions across a reopen', async () => {
      const { store, reopen } = await make();
      if (reopen === undefined) return;
      const a = makeFilePosition('a', 10);
      const c = makeContainerPosition('d'.repeat(64));
      await store.save({ upserts: [a, c] });
      await store.save({ upserts: [], deletes: ['file:a'] });
      await store.close();
      const again = await reopen();
      extra.push(again);
      expect(byKey(await again.load())).toEqual(byKey([c]));
    });

    it('should close idempotently and reject LC_ERR_SHUT_DOWN afterwards', async () => {
      const { store } = await make();
      await store.close();
      await store.close();
      await expect(store.load()).rejects.toSatisfy((e: unknown) =>
        LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
      await expect(store.save({ upserts: [] })).rejects.toSatisfy(
        (e: unknown) => LcError.isInstance(e, 'LC_ERR_SHUT_DOWN'),
      );
    });
  });
}
