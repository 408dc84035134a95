import { fc, test } from '@fast-check/vitest';
import { createTempDir } from '@lc/test-utils';
import { describe, expect } from 'vitest';
import { createBatchPersistence } from '../src/batch-persistence.js';
import type { BatchPersistence } from '../src/batch-persistence.js';
import { collect, makeBatch, makeRecords, sinkError } from './helpers.js';

// Model-based test of the batch WAL: random persists, per-sink outcomes
// and restarts against a plain Map. Invariants: after every restart,
// `recover()` yields each unsettled batch exactly once, in persist order,
// with its records and exactly the sinks still pending; settled batches
// never reappear; dead-lettered records are all in the DLQ.

const SINKS = ['a', 'b', 'c'] as const;

interface Model {
  nextId: number;
  /** Unsettled batches in persist order: id → pending sinks. */
  unsettled: Map<string, Set<string>>;
  records: Map<string, number>;
  deadRecords: number;
}

interface Real {
  p: BatchPersistence;
  readonly directory: string;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const open = (directory: string): Promise<BatchPersistence> =>
  createBatchPersistence({ directory, fsync: 'never', maxSegmentBytes: 4096 });

async function checkPending(m: Model, r: Real): Promise<void> {
  const pending = r.p.pending();
  expect(pending.map((b) => b.id)).toEqual([...m.unsettled.keys()]);
  for (const info of pending) {
    expect([...info.pendingSinks].sort()).toEqual(
      [...(m.unsettled.get(info.id) ?? [])].sort(),
    );
  }
}

function pick(
  m: Model,
  k: number,
  s: number,
): { id: string; sink: string } | undefined {
  const ids = [...m.unsettled.keys()];
  if (ids.length === 0) return undefined;
  const id = ids[k % ids.length] as string;
  const sinks = [...(m.unsettled.get(id) as Set<string>)].sort();
  return { id, sink: sinks[s % sinks.length] as string };
}

function settle(m: Model, id: string, sink: string): void {
  const pending = m.unsettled.get(id) as Set<string>;
  pending.delete(sink);
  if (pending.size === 0) m.unsettled.delete(id);
}

class PersistCmd implements Cmd {
  readonly sinks: string[];
  readonly count: number;
  constructor(sinks: string[], count: number) {
    this.sinks = sinks;
    this.count = count;
  }
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const id = `b${m.nextId++}`;
    await r.p.persist(makeBatch(id, this.sinks, this.count));
    if (this.sinks.length > 0) m.unsettled.set(id, new Set(this.sinks));
    m.records.set(id, this.count);
    await checkPending(m, r);
  }
  toString = (): string => `persist(${this.sinks.join('+')}, ${this.count})`;
}

class OutcomeCmd implements Cmd {
  readonly kind: 'delivered' | 'failed' | 'dead-lettered';
  readonly k: number;
  readonly s: number;
  constructor(kind: OutcomeCmd['kind'], k: number, s: number) {
    this.kind = kind;
    this.k = k;
    this.s = s;
  }
  check = (m: Readonly<Model>): boolean => m.unsettled.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const target = pick(m, this.k, this.s);
    if (target === undefined) return;
    const { id, sink } = target;
    if (this.kind === 'delivered') {
      await r.p.markDelivered(id, sink);
      settle(m, id, sink);
    } else if (this.kind === 'failed') {
      await r.p.markFailed(id, sink, sinkError(), 1, Date.now() + 60_000);
    } else {
      const n = m.records.get(id) as number;
      const indexes = [...Array(n).keys()].filter(
        (i) => (i + this.k) % 2 === 0,
      );
      await r.p.deadLetter(id, sink, sinkError(), { indexes });
      m.deadRecords += indexes.length;
      settle(m, id, sink);
    }
    await checkPending(m, r);
  }
  toString = (): string => `${this.kind}(${this.k}, ${this.s})`;
}

class RestartCmd implements Cmd {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.p.shutdown();
    r.p = await open(r.directory);
    const recovered = await collect(r.p.recover());
    expect(recovered.map((b) => b.id)).toEqual([...m.unsettled.keys()]);
    for (const b of recovered) {
      expect([...b.pendingSinks].sort()).toEqual(
        [...(m.unsettled.get(b.id) ?? [])].sort(),
      );
      expect(b.records).toEqual(makeRecords(b.id, m.records.get(b.id)));
    }
    expect(await r.p.deadLetters.count()).toBe(m.deadRecords);
    await checkPending(m, r);
  }
  toString = (): string => 'restart';
}

const commands = [
  fc
    .tuple(fc.subarray([...SINKS]), fc.integer({ min: 0, max: 4 }))
    .map(([sinks, count]) => new PersistCmd(sinks, count)),
  fc
    .tuple(
      fc.constantFrom('delivered', 'delivered', 'failed', 'dead-lettered'),
      fc.nat(),
      fc.nat(),
    )
    .map(([kind, k, s]) => new OutcomeCmd(kind as OutcomeCmd['kind'], k, s)),
  fc.constant(new RestartCmd()),
];

describe('createBatchPersistence', () => {
  describe('model', () => {
    test.prop([fc.commands(commands, { maxCommands: 40 })], {
      numRuns: Number(process.env.LC_LONG_TESTS) === 1 ? 300 : 25,
    })(
      'should recover exactly the unsettled batches after any sequence of restarts',
      async (cmds) => {
        const dir = await createTempDir('lc-persistence-model-');
        const real: Real = { p: await open(dir.path), directory: dir.path };
        const model: Model = {
          nextId: 0,
          unsettled: new Map(),
          records: new Map(),
          deadRecords: 0,
        };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          await new RestartCmd().run(model, real);
        } finally {
          await real.p.shutdown();
          await dir.cleanup();
        }
      },
      120_000,
    );
  });
});
