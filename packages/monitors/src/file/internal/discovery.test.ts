import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import type { DirectoryListings, DiscoveryOptions } from './discovery.js';
import { discoverFiles } from './discovery.js';
import { compileGlob } from './glob.js';

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

/** Set the directory's mtime `agoS` seconds back (past the racy margin). */
function age(path: string, agoS: number): void {
  const t = Date.now() / 1000 - agoS;
  utimesSync(path, t, t);
}

describe('discoverFiles', () => {
  describe('listings', () => {
    const setup = async (): Promise<{
      base: string;
      options: DiscoveryOptions;
      listings: DirectoryListings;
      known: Set<string>;
    }> => {
      dir = await createTempDir('lc-disc-');
      const base = dir.path;
      for (const n of ['a.log', 'b.log', 'c.txt'])
        writeFileSync(join(base, n), 'x\n');
      const listings: DirectoryListings = new Map();
      const known = new Set<string>();
      const options: DiscoveryOptions = {
        includes: compileGlob(`${base}/*.log`),
        excludes: [],
        selfPaths: [],
        maxDepth: 4,
        includeHidden: false,
        followSymlinks: true,
        maxFiles: 100,
        listings,
        reuse: () => true,
        skipStat: (path) => known.has(path),
      };
      return { base, options, listings, known };
    };

    it('should reuse the listing of an unchanged directory, leaving out known files and stating unknown ones', async () => {
      const { base, options, listings, known } = await setup();
      age(base, 60);
      const first = await discoverFiles(options);
      expect([...first.files.keys()].sort()).toEqual([
        join(base, 'a.log'),
        join(base, 'b.log'),
      ]);
      expect(first.reusedDirectories.size).toBe(0);
      expect(listings.has(base)).toBe(true);
      known.add(join(base, 'a.log'));
      const second = await discoverFiles(options);
      expect([...second.reusedDirectories]).toEqual([base]);
      // Known and unchanged: nothing to say. Unknown: stat'ed as before.
      expect([...second.files.keys()]).toEqual([join(base, 'b.log')]);
      expect(second.files.get(join(base, 'b.log'))).toBeDefined();
      expect(second.directories.has(base)).toBe(true);
    });

    it('should skip the files of a reused listing without asking while the skip token is unchanged, and ask again once it moves', async () => {
      const { base, options, known } = await setup();
      age(base, 60);
      let token = 1;
      const asked: string[] = [];
      const opts: DiscoveryOptions = {
        ...options,
        skipStat: (path) => {
          asked.push(path);
          return known.has(path);
        },
        skipStatToken: () => token,
      };
      await discoverFiles(opts);
      known.add(join(base, 'a.log'));
      known.add(join(base, 'b.log'));
      asked.length = 0;
      // First reuse at this token: every file asked, all skipped.
      const second = await discoverFiles(opts);
      expect(asked.sort()).toEqual([join(base, 'a.log'), join(base, 'b.log')]);
      expect(second.files.size).toBe(0);
      asked.length = 0;
      const third = await discoverFiles(opts);
      expect(asked).toEqual([]);
      expect([...third.reusedDirectories]).toEqual([base]);
      expect(third.files.size).toBe(0);
      // The token moved (a path no longer tracked): asked again, and stat'ed.
      known.delete(join(base, 'b.log'));
      token = 2;
      const fourth = await discoverFiles(opts);
      expect(asked.sort()).toEqual([join(base, 'a.log'), join(base, 'b.log')]);
      expect([...fourth.files.keys()]).toEqual([join(base, 'b.log')]);
      expect(fourth.files.get(join(base, 'b.log'))).toBeDefined();
      // Not every file skipped at token 2: the next reuse asks again.
      asked.length = 0;
      await discoverFiles(opts);
      expect(asked.length).toBe(2);
    });

    it('should still stop at maxFiles when it skips a reused listing at once', async () => {
      const { base, options, known } = await setup();
      age(base, 60);
      known.add(join(base, 'a.log'));
      known.add(join(base, 'b.log'));
      const opts: DiscoveryOptions = { ...options, skipStatToken: () => 7 };
      await discoverFiles(opts);
      await discoverFiles(opts);
      const capped = await discoverFiles({ ...opts, maxFiles: 1 });
      expect(capped.truncated).toBe(true);
    });

    it('should list a directory again once a file was added to it', async () => {
      const { base, options, known } = await setup();
      age(base, 60);
      await discoverFiles(options);
      known.add(join(base, 'a.log'));
      known.add(join(base, 'b.log'));
      writeFileSync(join(base, 'new.log'), 'y\n');
      const second = await discoverFiles(options);
      expect(second.reusedDirectories.size).toBe(0);
      expect(second.files.has(join(base, 'new.log'))).toBe(true);
      expect(second.files.get(join(base, 'new.log'))).toBeDefined();
      // Not reused: known files are listed (without a stat) as before.
      expect(second.files.has(join(base, 'a.log'))).toBe(true);
    });

    it('should not keep the listing of a directory changed just before it was read (racily clean)', async () => {
      const { base, options, listings } = await setup();
      // mtime now: a name added in the same clock tick would not move it.
      const first = await discoverFiles(options);
      expect(first.files.size).toBe(2);
      expect(listings.has(base)).toBe(false);
      const second = await discoverFiles(options);
      expect(second.reusedDirectories.size).toBe(0);
    });

    it('should not reuse a listing when reuse refuses the directory (not watched)', async () => {
      const { base, options } = await setup();
      age(base, 60);
      await discoverFiles(options);
      const second = await discoverFiles({ ...options, reuse: () => false });
      expect(second.reusedDirectories.size).toBe(0);
      expect(second.files.size).toBe(2);
    });
  });
});
