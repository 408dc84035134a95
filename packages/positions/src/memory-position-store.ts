import type {
  Position,
  PositionBackup,
  PositionChanges,
  PositionStore,
} from '@lc/core';
import { LcError, positionKey } from '@lc/core';

/** An in-memory position store, with a peek at its contents. */
export interface MemoryPositionStore extends PositionStore {
  /** Current contents, keyed by `positionKey()`. */
  readonly positions: ReadonlyMap<string, Position>;
  /** Number of `save` calls so far. */
  readonly saveCount: number;
}

/**
 * An in-memory {@link PositionStore} for ephemeral pipelines: nothing
 * survives the process. Behaves like `createInMemoryPositionStore` from
 * `@lc/core/testing` (which cannot be imported at runtime because that entry
 * point loads the vitest conformance suites). After `close`, every call
 * rejects `LC_ERR_SHUT_DOWN`.
 */
export function createMemoryPositionStore(
  initial: readonly Position[] = [],
): MemoryPositionStore {
  let state = new Map(initial.map((p) => [positionKey(p), p]));
  const backups: Array<PositionBackup & { state: Map<string, Position> }> = [];
  let closed = false;
  let saveCount = 0;
  let seq = 0;
  const guard = async (): Promise<void> => {
    if (closed) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'memory position store is closed',
      });
    }
  };
  return {
    get positions() {
      return state;
    },
    get saveCount() {
      return saveCount;
    },
    load: async () => {
      await guard();
      return [...state.values()];
    },
    save: async (changes: PositionChanges) => {
      await guard();
      const next = new Map(state);
      for (const p of changes.upserts) next.set(positionKey(p), p);
      for (const key of changes.deletes ?? []) next.delete(key);
      state = next;
      saveCount++;
    },
    backup: async () => {
      await guard();
      const b = {
        id: `mem-${++seq}`,
        createdAtMs: Date.now(),
        state: new Map(state),
      };
      backups.unshift(b);
      return { id: b.id, createdAtMs: b.createdAtMs };
    },
    listBackups: async () => {
      await guard();
      return backups.map(({ id, createdAtMs }) => ({ id, createdAtMs }));
    },
    restore: async (id?: string) => {
      await guard();
      const b =
        id === undefined ? backups[0] : backups.find((x) => x.id === id);
      if (b === undefined) {
        throw new LcError({
          code: 'LC_ERR_POSITIONS_CORRUPT',
          message: `no position backup ${id === undefined ? 'exists' : JSON.stringify(id)}`,
        });
      }
      state = new Map(b.state);
    },
    close: async () => {
      closed = true;
    },
  };
}
