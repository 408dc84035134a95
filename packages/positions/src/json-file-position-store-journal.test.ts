import {
  appendFile,
  readdir,
  readFile,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { fc, test as fcTest } from '@fast-check/vitest';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger, Position } from '@lc/core';
import { positionKey } from '@lc/core';
import { makeFilePosition } from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { encodeJournalRecord } from './internal/position-journal.js';
import { createJsonFilePositionStore } from './json-file-position-store.js';
import type { JsonFilePositionStoreOptions } from './json-file-position-store-options.js';

/** A logger that keeps what was logged at warn level. */
function recordingLogger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const noop = () => {};
  const logger = {
    warnings,
    trace: noop,
    debug: noop,
    info: noop,
    error: noop,
    fatal: noop,
    warn: (obj: unknown, msg?: string) =>
      warnings.push({ ...(obj as object), msg }),
    child: () => logger,
  };
  return logger as unknown as Logger & { warnings: Record<string, unknown>[] };
}

describe('createJsonFilePositionStore (journal)', () => {
  let dir: TempDir;
  let path: string;
  beforeEach(async () => {
    dir = await createTempDir('lc-pos-journal-');
    path = join(dir.path, 'positions.json');
  });
  afterEach(() => dir.cleanup());

  const open = (extra: Partial<JsonFilePositionStoreOptions> = {}) =>
    createJsonFilePositionStore({ path, ...extra });
  const journals = async () =>
    (await readdir(dir.path)).filter((n) => n.includes('.journal.')).sort();
  const offsets = async (extra: Partial<JsonFilePositionStoreOptions> = {}) => {
    const s = open(extra);
    try {
      const out: Record<string, number> = {};
      for (const p of await s.load())
        out[p.id] = (p as { offset: number }).offset;
      return out;
    } finally {
      await s.close();
    }
  };

  describe('save', () => {
    it('should append one line per save and leave the snapshot alone', async () => {
      const s = open();
      await s.save({ upserts: [makeFilePosition('a', 10)] });
      await s.save({ upserts: [makeFilePosition('a', 20)] });
      await s.save({ upserts: [makeFilePosition('b', 5)] });
      const [journal] = await journals();
      expect(journal).toBeDefined();
      const text = await readFile(join(dir.path, journal as string), 'utf8');
      expect(text.split('\n').filter((l) => l !== '')).toHaveLength(3);
      await expect(stat(path)).rejects.toThrow(/ENOENT/);
      // Another process reading now (this one "killed", never closed) sees every save.
      expect(await offsets()).toEqual({ a: 20, b: 5 });
      await s.close();
    });

    it('should fold the journal into the snapshot once it passes compactAfterBytes', async () => {
      const registry = new Registry();
      const s = open({ compactAfterBytes: 2000, registry });
      for (let i = 1; i <= 40; i++)
        await s.save({ upserts: [makeFilePosition('a', i * 10)] });
      const compactions =
        (await registry.getSingleMetricAsString(
          'lc_positions_compactions_total',
        )) ?? '';
      expect(compactions).toMatch(/} [1-9]/);
      expect(await journals()).toHaveLength(1);
      const snapshot = JSON.parse(await readFile(path, 'utf8')) as {
        positions: Position[];
      };
      expect(snapshot.positions).toHaveLength(1);
      expect(await offsets()).toEqual({ a: 400 });
      await s.close();
    });

    it('should apply deletes from the journal', async () => {
      const s = open();
      await s.save({
        upserts: [makeFilePosition('a', 10), makeFilePosition('b', 10)],
      });
      await s.save({
        upserts: [],
        deletes: [positionKey(makeFilePosition('a', 0))],
      });
      expect(await offsets()).toEqual({ b: 10 });
      await s.close();
    });
  });

  describe('load', () => {
    it('should recover a torn journal tail to its last valid record, count it and name file and offset', async () => {
      const s = open();
      await s.save({ upserts: [makeFilePosition('a', 10)] });
      await s.save({ upserts: [makeFilePosition('a', 20)] });
      const [name] = await journals();
      const file = join(dir.path, name as string);
      const validBytes = (await stat(file)).size;
      await appendFile(file, '0badc0de {"u":[{"kind":"file","id":"a","off');
      const registry = new Registry();
      const logger = recordingLogger();
      expect(await offsets({ registry, logger })).toEqual({ a: 20 });
      expect(
        await registry.getSingleMetricAsString(
          'lc_positions_journal_recoveries_total',
        ),
      ).toContain('} 1');
      expect(logger.warnings).toContainEqual(
        expect.objectContaining({ file, offset: validBytes }),
      );
      await s.close();
    });

    it('should keep appending after the valid part, never behind a torn line', async () => {
      {
        const s = open();
        await s.save({ upserts: [makeFilePosition('a', 10)] });
        // killed: no close
        const [name] = await journals();
        await appendFile(join(dir.path, name as string), 'ffff');
      }
      const s2 = open();
      await s2.load();
      await s2.save({ upserts: [makeFilePosition('a', 30)] });
      // killed again
      const registry = new Registry();
      expect(await offsets({ registry })).toEqual({ a: 30 });
      expect(
        await registry.getSingleMetricAsString(
          'lc_positions_journal_recoveries_total',
        ),
      ).not.toMatch(/} [1-9]/);
      await s2.close();
    });

    it('should stop at a damaged record in the middle and keep what came before', async () => {
      const s = open();
      await s.save({ upserts: [makeFilePosition('a', 10)] });
      await s.save({ upserts: [makeFilePosition('a', 20)] });
      await s.save({ upserts: [makeFilePosition('a', 30)] });
      const [name] = await journals();
      const file = join(dir.path, name as string);
      const text = await readFile(file, 'utf8');
      const lines = text.split('\n');
      lines[1] = (lines[1] as string).replace('"offset":20', '"offset":21');
      await writeFile(file, lines.join('\n'));
      expect(await offsets()).toEqual({ a: 10 });
      await s.close();
    });

    it('should ignore journals the snapshot already folded in (a crash during compaction)', async () => {
      const s = open();
      await s.save({ upserts: [makeFilePosition('a', 10)] });
      await s.close(); // the snapshot says: replay from journal 1 on
      const stale = makeFilePosition('a', 999);
      await writeFile(
        join(dir.path, 'positions.json.journal.0'),
        encodeJournalRecord([JSON.stringify(stale)], []),
      );
      expect(await offsets()).toEqual({ a: 10 });
      const s2 = open();
      await s2.save({ upserts: [makeFilePosition('b', 1)] });
      expect(await journals()).not.toContain('positions.json.journal.0');
      await s2.close();
    });

    it('should replay a journal over a snapshot restored from backup', async () => {
      for (const offset of [10, 20]) {
        const s = open();
        await s.save({ upserts: [makeFilePosition('a', offset)] });
        await s.close();
      }
      const s = open();
      await s.save({ upserts: [makeFilePosition('b', 7)] });
      // killed; then the snapshot is damaged
      await writeFile(path, 'garbage');
      expect(await offsets()).toEqual({ a: 10, b: 7 });
      await s.close();
    });
  });

  // The invariant: whatever byte the journal is cut at (a kill or a crash
  // in the middle of an append), a load gives exactly the state after the
  // last save whose line is whole.
  fcTest.prop(
    [
      fc.array(
        fc.record({
          id: fc.constantFrom('a', 'b', 'c'),
          offset: fc.nat({ max: 10_000 }),
          del: fc.boolean(),
        }),
        { minLength: 1, maxLength: 12 },
      ),
      fc.double({ min: 0, max: 1, noNaN: true }),
    ],
    { numRuns: 40 },
  )(
    'should load the state of the last whole save wherever the journal is cut',
    async (ops, cutAt) => {
      const d = await createTempDir('lc-pos-journal-prop-');
      try {
        const p = join(d.path, 'positions.json');
        const s = createJsonFilePositionStore({ path: p });
        const states: Array<Record<string, number>> = [{}];
        const ends: number[] = [0];
        let model: Record<string, number> = {};
        for (const op of ops) {
          const pos = makeFilePosition(op.id, op.offset);
          if (op.del) {
            await s.save({ upserts: [], deletes: [positionKey(pos)] });
            const { [op.id]: _gone, ...rest } = model;
            model = rest;
          } else {
            await s.save({ upserts: [pos] });
            model = { ...model, [op.id]: op.offset };
          }
          states.push(model);
          ends.push(
            (await stat(join(d.path, 'positions.json.journal.0'))).size,
          );
        }
        const total = ends[ends.length - 1] as number;
        const cut = Math.floor(cutAt * total);
        await truncate(join(d.path, 'positions.json.journal.0'), cut);
        let whole = 0;
        for (let i = 0; i < ends.length; i++)
          if ((ends[i] as number) <= cut) whole = i;
        const reader = createJsonFilePositionStore({ path: p });
        const got: Record<string, number> = {};
        for (const q of await reader.load())
          got[q.id] = (q as { offset: number }).offset;
        await reader.close();
        expect(got).toEqual(states[whole]);
        await s.close();
      } finally {
        await d.cleanup();
      }
    },
  );
});
