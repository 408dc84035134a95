import { LcError } from '../lc-error.js';
import { positionKey } from '../position.js';
import type { Position } from '../position.js';
import type {
  PositionBackup,
  PositionChanges,
  PositionStore,
} from '../position-store.js';

/** An in-memory {@link PositionStore}, with a peek at its contents. */
export interface InMemoryPositionStore extends PositionStore {
  /** Current contents, keyed by `positionKey()`. */
  readonly positions: ReadonlyMap<string, Position>;
  /** Number of `save` calls so far. */
  readonly saveCount: number;
}

/**
 * Create an in-memory position store (tests, ephemeral pipelines). Backups
 * are kept in memory; `close` makes every later call reject
 * `LC_ERR_SHUT_DOWN`.
 */
export function createInMemoryPositionStore(
  initial: readonly Position[] = [],
): InMemoryPositionStore {
  let state = new Map(initial.map((p) => [positionKey(p), p]));
  const backups: Array<PositionBackup & { state: Map<string, Position> }> = [];
  let closed = false;
  let saveCount = 0;
  let seq = 0;

  const guard = (): void => {
    if (closed) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'in-memory position store is closed',
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
    async load() {
      guard();
      return [...state.values()];
    },
    async save(changes: PositionChanges) {
      guard();
      const next = new Map(state);
      for (const p of changes.upserts) next.set(positionKey(p), p);
      for (const key of changes.deletes ?? []) next.delete(key);
      state = next;
      saveCount++;
    },
    async backup() {
      guard();
      const b = {
        id: `mem-${++seq}`,
        createdAtMs: Date.now(),
        state: new Map(state),
      };
      backups.unshift(b);
      return { id: b.id, createdAtMs: b.createdAtMs };
    },
    async listBackups() {
      guard();
      return backups.map(({ id, createdAtMs }) => ({ id, createdAtMs }));
    },
    async restore(id?: string) {
      guard();
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
    async close() {
      closed = true;
    },
  };
}
