import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { LcError } from '@lc/core';
import {
  describePositionStoreContract,
  makeFilePosition,
} from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { createJsonFilePositionStore } from './json-file-position-store.js';
import type { JsonFilePositionStoreOptions } from './json-file-position-store-options.js';

describePositionStoreContract('json file', async () => {
  const dir = await createTempDir('lc-pos-json-');
  const path = join(dir.path, 'positions.json');
  return {
    store: createJsonFilePositionStore({ path }),
    reopen: async () => createJsonFilePositionStore({ path }),
    cleanup: () => dir.cleanup(),
  };
});

describe('createJsonFilePositionStore', () => {
  let dir: TempDir;
  let path: string;
  beforeEach(async () => {
    dir = await createTempDir('lc-pos-json-');
    path = join(dir.path, 'sub', 'positions.json');
  });
  afterEach(() => dir.cleanup());

  const open = (extra: Partial<JsonFilePositionStoreOptions> = {}) =>
    createJsonFilePositionStore({ path, ...extra });

  /**
   * Three runs saving offsets 10, 20, 30 of file a. Each close folds the
   * journal into a new snapshot, so backups of 10 and 20 are left.
   */
  async function threeSaves(): Promise<void> {
    for (const offset of [10, 20, 30]) {
      const s = open();
      await s.save({ upserts: [makeFilePosition('a', offset)] });
      await s.close();
    }
  }
  const offsetOf = async (
    extra: Partial<JsonFilePositionStoreOptions> = {},
  ) => {
    const s = open(extra);
    try {
      const [p] = await s.load();
      return p === undefined ? undefined : (p as { offset: number }).offset;
    } finally {
      await s.close();
    }
  };

  it('should throw LC_ERR_INVALID_OPTION for an empty path', () => {
    expect(() => createJsonFilePositionStore({ path: '' })).toThrow(/path/);
  });

  describe('save', () => {
    it('should write a readable file with a checksum, one position per line', async () => {
      const s = open();
      await s.save({
        upserts: [makeFilePosition('a', 10), makeFilePosition('b', 20)],
      });
      await s.close();
      const text = await readFile(path, 'utf8');
      expect(text).toMatch(/"checksum":"[0-9a-f]{64}"/);
      expect(
        text.split('\n').filter((l) => l.startsWith('{"kind"')),
      ).toHaveLength(2);
      expect(JSON.parse(text)).toMatchObject({
        format: 'lc-positions',
        count: 2,
      });
    });

    it('should keep backupCount rotated backups and no temp files', async () => {
      for (let i = 1; i <= 5; i++) {
        const s = open({ backupCount: 2 });
        await s.save({ upserts: [makeFilePosition('a', i)] });
        await s.close();
      }
      const names = (await readdir(join(dir.path, 'sub'))).sort();
      expect(names).toEqual([
        'positions.json',
        'positions.json.bak.3',
        'positions.json.bak.4',
        'positions.json.journal.5',
      ]);
      // The journal left after a clean close is empty: the snapshot holds all.
      expect(
        await readFile(join(dir.path, 'sub', 'positions.json.journal.5')),
      ).toHaveLength(0);
    });
  });

  describe('load', () => {
    let registry: Registry;
    beforeEach(() => {
      registry = new Registry();
    });
    const metric = async (name: string) =>
      (await registry.getSingleMetricAsString(name)) ?? '';

    it('should restore the newest valid backup from a truncated file and count it', async () => {
      await threeSaves();
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.slice(0, text.length / 2));
      expect(await offsetOf({ registry })).toBe(20);
      expect(await metric('lc_positions_corruption_detected_total')).toContain(
        '} 1',
      );
      expect(await metric('lc_positions_recoveries_total')).toContain(
        'strategy="restore_backup"} 1',
      );
      const names = await readdir(join(dir.path, 'sub'));
      expect(names.some((n) => n.startsWith('positions.json.corrupt-'))).toBe(
        true,
      );
      // The restored state is the file now: a second open sees it without recovery.
      expect(await offsetOf()).toBe(20);
    });

    it('should detect garbage bytes', async () => {
      await threeSaves();
      await writeFile(path, Buffer.from([0, 255, 13, 7, 42]));
      expect(await offsetOf()).toBe(20);
    });

    it('should detect a wrong checksum (valid JSON, edited value)', async () => {
      await threeSaves();
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace('"offset":30', '"offset":31'));
      expect(await offsetOf()).toBe(20);
    });

    it('should restore from backups when the file is missing', async () => {
      await threeSaves();
      await rm(path);
      expect(await offsetOf()).toBe(20);
    });

    it('should skip corrupt backups and use the newest valid one', async () => {
      await threeSaves();
      await writeFile(path, 'garbage');
      await writeFile(`${path}.bak.2`, '{"format":"lc-positions"');
      expect(await offsetOf()).toBe(10);
    });

    it('should reject LC_ERR_POSITIONS_CORRUPT when every backup is corrupt', async () => {
      await threeSaves();
      for (const f of [path, `${path}.bak.1`, `${path}.bak.2`])
        await writeFile(f, 'x');
      const s = open();
      await expect(s.load()).rejects.toSatisfy((e: unknown) =>
        LcError.isInstance(e, 'LC_ERR_POSITIONS_CORRUPT'),
      );
      await s.close();
    });

    it('should start empty with onCorruption recreate', async () => {
      await threeSaves();
      await writeFile(path, 'x');
      expect(
        await offsetOf({ onCorruption: 'recreate', registry }),
      ).toBeUndefined();
      expect(await metric('lc_positions_recoveries_total')).toContain(
        'strategy="recreate"} 1',
      );
    });

    it('should reject with onCorruption fail and leave the file untouched', async () => {
      await threeSaves();
      await writeFile(path, 'x');
      const s = open({ onCorruption: 'fail' });
      await expect(s.load()).rejects.toSatisfy((e: unknown) =>
        LcError.isInstance(e, 'LC_ERR_POSITIONS_CORRUPT'),
      );
      await s.close();
      expect(await readFile(path, 'utf8')).toBe('x');
    });

    it('should start empty without any file', async () => {
      expect(await offsetOf()).toBeUndefined();
    });

    it('should ignore leftover temp files of a crashed save, and remove them at the first write', async () => {
      await threeSaves();
      await writeFile(
        join(dir.path, 'sub', 'positions.json.tmp-999-1'),
        '{"half',
      );
      const before = (await readdir(join(dir.path, 'sub'))).sort();
      // A load alone (e.g. `lc-agent positions list`) changes nothing.
      expect(await offsetOf()).toBe(30);
      expect((await readdir(join(dir.path, 'sub'))).sort()).toEqual(before);
      const s = open();
      await s.save({ upserts: [makeFilePosition('a', 40)] });
      await s.close();
      expect(await readdir(join(dir.path, 'sub'))).not.toContain(
        'positions.json.tmp-999-1',
      );
    });

    it('should create nothing when loading from a directory that does not exist', async () => {
      expect(await offsetOf()).toBeUndefined();
      await expect(readdir(join(dir.path, 'sub'))).rejects.toThrow(/ENOENT/);
    });
  });
});
