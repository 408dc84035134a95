import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { FilePosition, PositionStore } from '@lc/core';
import { makeFilePosition } from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import {
  createJsonFilePositionStore,
  createPositionManager,
} from '../../src/index.js';
import type { PositionManager } from '../../src/index.js';

/**
 * Model-based test of the manager over a real JSON file store: random
 * upserts, commits (forward, stale, and from before a reset), resets,
 * removes, flushes and restarts without shutdown (a crash), against two
 * plain Maps of [offset, epoch] (live and last flushed).
 */
type Pos = readonly [offset: number, epoch: number];
interface Model {
  live: Map<string, Pos>;
  flushed: Map<string, Pos>;
  /** Removed since the last start and not upserted again: late commits are ignored. */
  removed: Set<string>;
}
interface Real {
  manager: PositionManager;
  store: PositionStore;
  path: string;
}

const open = async (path: string): Promise<Real> => {
  const store = createJsonFilePositionStore({
    path,
    fsync: false,
    backupCount: 1,
  });
  const manager = createPositionManager({
    store,
    autoFlush: false,
    cleanupIntervalMs: 0,
  });
  await manager.start();
  return { manager, store, path };
};

const snapshot = (manager: PositionManager): Map<string, Pos> =>
  new Map(
    manager
      .list('file')
      .map((p) => [
        p.id,
        [(p as FilePosition).offset, (p as FilePosition).epoch ?? 0],
      ]),
  );

type Cmd = fc.AsyncCommand<Model, Real>;

const ids = fc.constantFrom('1:1', '1:2', '1:3', '2:1');

class Upsert implements Cmd {
  readonly id: string;
  readonly offset: number;
  constructor(id: string, offset: number) {
    this.id = id;
    this.offset = offset;
  }
  check = () => true;
  async run(m: Model, r: Real) {
    r.manager.upsertFile({
      ...makeFilePosition(this.id, this.offset),
      path: '',
    });
    if (!m.live.has(this.id)) m.live.set(this.id, [this.offset, 0]);
    m.removed.delete(this.id);
    expect(snapshot(r.manager)).toEqual(m.live);
  }
  toString = () => `upsert(${this.id}, ${this.offset})`;
}

class Commit implements Cmd {
  readonly id: string;
  readonly offset: number;
  /** A late acknowledgement of a line read before the last reset. */
  readonly beforeReset: boolean;
  constructor(id: string, offset: number, beforeReset: boolean) {
    this.id = id;
    this.offset = offset;
    this.beforeReset = beforeReset;
  }
  check = () => true;
  async run(m: Model, r: Real) {
    const before = m.live.get(this.id);
    const current = before?.[1] ?? 0;
    const epoch = Math.max(0, this.beforeReset ? current - 1 : current);
    r.manager.commit(
      { kind: 'file', id: this.id },
      epoch === 0
        ? { offset: this.offset, line: 1 }
        : { offset: this.offset, line: 1, epoch },
    );
    if (m.removed.has(this.id)) {
      // a late acknowledgement of a forgotten source must not resurrect it
    } else if (
      before === undefined ||
      (epoch === before[1] && this.offset > before[0])
    )
      m.live.set(this.id, [this.offset, epoch]);
    const after = snapshot(r.manager).get(this.id);
    if (before !== undefined && after !== undefined) {
      // Within an epoch, never backwards; an older epoch never comes back.
      expect(after[1]).toBe(before[1]);
      expect(after[0]).toBeGreaterThanOrEqual(before[0]);
    }
    expect(snapshot(r.manager)).toEqual(m.live);
  }
  toString = () =>
    `commit(${this.id}, ${this.offset}${this.beforeReset ? ', before reset' : ''})`;
}

class Reset implements Cmd {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  check = (m: Readonly<Model>) => m.live.has(this.id);
  async run(m: Model, r: Real) {
    r.manager.reset('file', this.id, 'truncated');
    m.live.set(this.id, [0, (m.live.get(this.id)?.[1] ?? 0) + 1]);
    expect(snapshot(r.manager)).toEqual(m.live);
  }
  toString = () => `reset(${this.id})`;
}

class Remove implements Cmd {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  check = () => true;
  async run(m: Model, r: Real) {
    r.manager.remove('file', this.id);
    if (m.live.delete(this.id)) m.removed.add(this.id);
    expect(snapshot(r.manager)).toEqual(m.live);
  }
  toString = () => `remove(${this.id})`;
}

class Flush implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.manager.flush();
    m.flushed = new Map(m.live);
  }
  toString = () => 'flush';
}

class Restart implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.store.close(); // no shutdown: unflushed changes are lost, as in a crash
    const next = await open(r.path);
    r.manager = next.manager;
    r.store = next.store;
    expect(snapshot(r.manager)).toEqual(m.flushed);
    m.live = new Map(m.flushed);
    m.removed.clear();
  }
  toString = () => 'restart';
}

describe('createPositionManager (model)', () => {
  test.prop(
    [
      fc.commands(
        [
          fc.tuple(ids, fc.nat(1000)).map(([id, o]) => new Upsert(id, o)),
          fc
            .tuple(ids, fc.nat(1000))
            .map(([id, o]) => new Commit(id, o, false)),
          fc
            .tuple(ids, fc.nat(1000))
            .map(([id, o]) => new Commit(id, o, false)),
          fc.tuple(ids, fc.nat(1000)).map(([id, o]) => new Commit(id, o, true)),
          ids.map((id) => new Reset(id)),
          ids.map((id) => new Remove(id)),
          fc.constant(new Flush()),
          fc.constant(new Restart()),
        ],
        { maxCommands: 40, size: 'large' },
      ),
    ],
    { numRuns: 60 },
  )(
    'should reload exactly the last flushed state, never move a committed offset backwards nor take a commit from before a reset',
    async (cmds) => {
      const dir = await createTempDir('lc-pos-model-');
      const real = await open(join(dir.path, 'positions.json'));
      try {
        await fc.asyncModelRun(
          () => ({
            model: {
              live: new Map(),
              flushed: new Map(),
              removed: new Set<string>(),
            },
            real,
          }),
          cmds,
        );
      } finally {
        await real.store.close();
        await dir.cleanup();
      }
    },
  );
});
