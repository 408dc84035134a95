import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { createTempDir } from '@lc/test-utils';
import { describe, expect } from 'vitest';
import { createBatchPersistence } from '../src/batch-persistence.js';
import type { BatchPersistence } from '../src/batch-persistence.js';
import { collect, makeBatch, makeRecords, sinkError } from './helpers.js';

// Crash images of the batch WAL, built byte by byte. A store runs a random
// history, then one more operation X (persist, delivered, dead-lettered).
// The directory is captured before and after X; a crash during X leaves
// each file somewhere between the two, in the order X wrote them (segment
// frames, a new segment's header first, then the ack journal; fully
// acknowledged segments are unlinked last). The property cuts that stream
// of appended bytes at every possible point and opens the image: recover()
// must yield every batch unsettled before X with exactly its pending sinks
// (X's own batch and sink may be either side of X), nothing settled, each
// once, records intact, and the same again after a second restart (the
// healing done by the first open loses nothing).

const SINKS = ['a', 'b'] as const;
const SEGMENT_RE = /^seg-\d+\.log$/;

type Files = Map<string, Buffer>;

interface Op {
  readonly kind: 'persist' | 'delivered' | 'dead-lettered';
  readonly sinks: readonly string[];
  readonly count: number;
  readonly k: number;
  readonly s: number;
}

interface Model {
  nextId: number;
  /** Unsettled batches: id → pending sinks. */
  readonly unsettled: Map<string, Set<string>>;
  readonly records: Map<string, number>;
}

const open = (directory: string): Promise<BatchPersistence> =>
  createBatchPersistence({ directory, fsync: 'never', maxSegmentBytes: 4096 });

async function snapshot(root: string, rel = ''): Promise<Files> {
  const files: Files = new Map();
  for (const entry of await readdir(path.join(root, rel), {
    withFileTypes: true,
  })) {
    const name = path.join(rel, entry.name);
    if (entry.isDirectory()) {
      for (const [k, v] of await snapshot(root, name)) files.set(k, v);
    } else files.set(name, await readFile(path.join(root, name)));
  }
  return files;
}

/** Apply `op` to the store and the model; the (batch, sink) it touched. */
async function apply(
  op: Op,
  m: Model,
  p: BatchPersistence,
): Promise<{ id: string; sink?: string } | undefined> {
  const ids = [...m.unsettled.keys()];
  if (op.kind === 'persist' || ids.length === 0) {
    const id = `b${m.nextId++}`;
    await p.persist(makeBatch(id, op.sinks, op.count));
    if (op.sinks.length > 0) m.unsettled.set(id, new Set(op.sinks));
    m.records.set(id, op.count);
    return { id };
  }
  const id = ids[op.k % ids.length] as string;
  const pending = m.unsettled.get(id) as Set<string>;
  const sink = [...pending].sort()[op.s % pending.size] as string;
  if (op.kind === 'delivered') await p.markDelivered(id, sink);
  else await p.deadLetter(id, sink, sinkError());
  pending.delete(sink);
  if (pending.size === 0) m.unsettled.delete(id);
  return { id, sink };
}

/**
 * The directory a crash `cut` bytes into X's writes leaves: segment bytes
 * X appended (in segment order), then its ack journal bytes; files X
 * deleted are still there unless every byte was written.
 */
function crashImage(
  before: Files,
  after: Files,
  cut: number,
  total: number,
): Files {
  const image: Files = new Map();
  const grown = [...after.keys()]
    .filter((n) => SEGMENT_RE.test(path.basename(n)))
    .sort();
  grown.push(...[...after.keys()].filter((n) => n.endsWith('acks.log')));
  let left = cut;
  for (const [name, data] of after) {
    if (!grown.includes(name)) image.set(name, data);
  }
  for (const name of grown) {
    const data = after.get(name) as Buffer;
    const from = before.get(name)?.length ?? 0;
    if (from > data.length) {
      image.set(name, data); // rewritten (checkpoint), not appended
      continue;
    }
    const take = Math.min(left, data.length - from);
    left -= take;
    if (before.has(name) || take > 0)
      image.set(name, data.subarray(0, from + take));
  }
  if (cut < total) {
    for (const [name, data] of before)
      if (!after.has(name) && !name.endsWith('.tmp')) image.set(name, data);
  }
  return image;
}

/** Bytes X appended to segments and the ack journal. */
function appendedBytes(before: Files, after: Files): number {
  let total = 0;
  for (const [name, data] of after) {
    if (!SEGMENT_RE.test(path.basename(name)) && !name.endsWith('acks.log'))
      continue;
    total += Math.max(0, data.length - (before.get(name)?.length ?? 0));
  }
  return total;
}

async function writeImage(root: string, files: Files): Promise<void> {
  for (const [name, data] of files) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), data);
  }
}

async function recoverImage(
  directory: string,
): Promise<Map<string, { sinks: string[]; records: unknown }>> {
  const p = await open(directory);
  try {
    const out = new Map<string, { sinks: string[]; records: unknown }>();
    for (const b of await collect(p.recover())) {
      expect(out.has(b.id), `batch ${b.id} recovered twice`).toBe(false);
      out.set(b.id, { sinks: [...b.pendingSinks].sort(), records: b.records });
    }
    return out;
  } finally {
    await p.shutdown();
  }
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('persist', 'persist', 'delivered', 'dead-lettered'),
  sinks: fc.subarray([...SINKS], { minLength: 1 }),
  count: fc.integer({ min: 0, max: 40 }),
  k: fc.nat(),
  s: fc.nat(),
});

describe('createBatchPersistence', () => {
  describe('recover', () => {
    test.prop(
      [fc.array(opArb, { maxLength: 30 }), opArb, fc.nat({ max: 1_000_000 })],
      { numRuns: Number(process.env.LC_LONG_TESTS) === 1 ? 300 : 40 },
    )(
      'should lose no unsettled batch and revive no settled one when a crash tears the last operation at any byte',
      async (history, last, where) => {
        const dir = await createTempDir('lc-persistence-image-');
        const model: Model = {
          nextId: 0,
          unsettled: new Map(),
          records: new Map(),
        };
        const p = await open(path.join(dir.path, 'live'));
        try {
          for (const op of history) await apply(op, model, p);
          await p.flush();
          const before = await snapshot(path.join(dir.path, 'live'));
          const was = new Map(
            [...model.unsettled].map(([id, s]) => [id, [...s].sort()]),
          );
          const touched = await apply(last, model, p);
          await p.flush();
          const after = await snapshot(path.join(dir.path, 'live'));
          const total = appendedBytes(before, after);
          const cut = Math.floor((where * (total + 1)) / 1_000_001);
          const image = path.join(dir.path, 'image');
          await writeImage(image, crashImage(before, after, cut, total));

          const first = await recoverImage(image);
          const expected = new Map(was);
          const now = model.unsettled.get(touched?.id ?? '');
          const allowed = [
            was.get(touched?.id ?? ''),
            now === undefined ? undefined : [...now].sort(),
          ];
          for (const [id, got] of first) {
            if (id === touched?.id) {
              expect(allowed, `${id} at cut ${cut}/${total}`).toContainEqual(
                got.sinks,
              );
            } else {
              expect(got.sinks, `${id} at cut ${cut}/${total}`).toEqual(
                expected.get(id),
              );
            }
            expect(got.records).toEqual(makeRecords(id, model.records.get(id)));
          }
          for (const id of expected.keys()) {
            if (id === touched?.id && allowed.includes(undefined)) continue;
            expect(first.has(id), `${id} lost at cut ${cut}/${total}`).toBe(
              true,
            );
          }
          const second = await recoverImage(image);
          expect(
            [...second].map(([id, b]) => [id, b.sinks]),
            'second restart',
          ).toEqual([...first].map(([id, b]) => [id, b.sinks]));
        } finally {
          await p.shutdown();
          await dir.cleanup();
        }
      },
      120_000,
    );
  });
});
