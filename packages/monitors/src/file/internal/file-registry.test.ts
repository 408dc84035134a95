import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { systemClock } from '@lc/core';
import { createCollectingIntake } from '@lc/core/testing';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileMetrics } from './file-metrics.js';
import { FileRegistry } from './file-registry.js';
import { resolveFileMonitorOptions } from './resolve-file-monitor-options.js';
import type { TailedFile } from './tailed-file.js';

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
  dir = undefined;
});

/** A registry of `dir/*.log` at the monitor's defaults; background errors fail the test. */
function createRegistry(
  tmp: TempDir,
  wake?: (f: TailedFile) => void,
): FileRegistry {
  return new FileRegistry({
    options: resolveFileMonitorOptions({
      intake: createCollectingIntake(),
      positions: createPositionManager({
        store: createMemoryPositionStore(),
      }),
      include: [`${tmp.path}/*.log`],
    }),
    counters: { truncatedLines: 0, skippedLines: 0, invalidChars: 0 },
    clock: systemClock,
    metrics: createFileMetrics(new Registry()),
    onError: (e) => {
      throw e;
    },
    committed: () => undefined,
    ...(wake === undefined ? {} : { wake }),
  });
}

describe('FileRegistry', () => {
  describe('track', () => {
    it('should wake the read pass for a new identity and whenever it is marked dirty, never when cleared', async () => {
      dir = await createTempDir('lc-reg-');
      const woken: TailedFile[] = [];
      const registry = createRegistry(dir, (f) => woken.push(f));
      const path = join(dir.path, 'a.log');
      writeFileSync(path, 'x\n');
      const f = registry.track(
        path,
        statSync(path, { bigint: true }),
        'discovered',
      );
      expect(woken).toEqual([f]);
      f.dirty = false;
      expect(woken).toHaveLength(1);
      expect(f.dirty).toBe(false);
      f.dirty = true;
      expect(woken).toEqual([f, f]);
      expect(f.dirty).toBe(true);
    });
  });

  describe('finishedReadOffset', () => {
    it('should give where a finished identity was read up to only for the content it had (its inode may hold another file now)', async () => {
      dir = await createTempDir('lc-reg-');
      const registry = createRegistry(dir);
      const path = join(dir.path, 'a.log');
      writeFileSync(path, 'x\n'.repeat(10));
      const f = registry.track(
        path,
        statSync(path, { bigint: true }),
        'discovered',
      );
      f.fingerprint = 'head-a';
      f.fingerprintBytes = 20;
      f.splitter.reset(20, 10);
      registry.retire(f);
      expect(
        registry.finishedReadOffset(f.id, {
          fingerprint: 'head-a',
          fingerprintBytes: 20,
        }),
      ).toBe(20);
      expect(
        registry.finishedReadOffset(f.id, {
          fingerprint: 'head-b',
          fingerprintBytes: 20,
        }),
      ).toBeUndefined();
      // Tracked again: not finished any more.
      registry.track(path, statSync(path, { bigint: true }), 'discovered');
      expect(
        registry.finishedReadOffset(f.id, {
          fingerprint: 'head-a',
          fingerprintBytes: 20,
        }),
      ).toBeUndefined();
    });
  });
});
