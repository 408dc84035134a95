// FilePositions over the real position manager and real files: what an
// identity writes back before the monitor has decided where it starts.
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FilePosition } from '@lc/core';
import { systemClock } from '@lc/core';
import { createCollectingIntake } from '@lc/core/testing';
import {
  createMemoryPositionStore,
  createPositionManager,
  decideFileResume,
  fingerprintOf,
} from '@lc/positions';
import type { PositionManager } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileMetrics } from './file-metrics.js';
import { FilePositions } from './file-positions.js';
import { FileRegistry } from './file-registry.js';
import { resolveFileMonitorOptions } from './resolve-file-monitor-options.js';

const lines = (tag: string): string => {
  let s = '';
  for (let i = 0; i < 200; i++)
    s += `2026-01-01T00:00:00.${tag}Z stdout F ${tag}-${i}\n`;
  return s;
};

let dir: TempDir | undefined;
let manager: PositionManager | undefined;
afterEach(async () => {
  await manager?.shutdown();
  manager = undefined;
  await dir?.cleanup();
  dir = undefined;
});

async function setup() {
  dir = await createTempDir('lc-fp-');
  manager = createPositionManager({ store: createMemoryPositionStore() });
  await manager.start();
  const m = manager;
  const options = resolveFileMonitorOptions({
    intake: createCollectingIntake({ autoCommit: m }),
    positions: m,
    include: [`${dir.path}/*.log`],
  });
  const registry = new FileRegistry({
    options,
    counters: { truncatedLines: 0, skippedLines: 0, invalidChars: 0 },
    clock: systemClock,
    metrics: createFileMetrics(new Registry()),
    onError: (e) => {
      throw e;
    },
    committed: (id) => m.get('file', id) as FilePosition | undefined,
  });
  const positions = new FilePositions(m, systemClock, (e) => {
    throw e;
  });
  return { dir: dir.path, manager: m, registry, positions };
}

describe('FilePositions', () => {
  describe('upsert', () => {
    it("should keep the saved head of an identity whose own head is unread (renamed before its first open), so a reused inode's new content is not resumed at the old offset", async () => {
      const { dir, manager: m, registry, positions } = await setup();
      const path = join(dir, '0.log');
      // Saved: older content that was on this inode, read to its end.
      const old = Buffer.from(lines('111'));
      writeFileSync(path, lines('222'));
      const st = statSync(path, { bigint: true });
      const id = `${st.dev}:${st.ino}`;
      m.upsertFile({
        kind: 'file',
        id,
        path,
        dev: String(st.dev),
        ino: String(st.ino),
        ...fingerprintOf(old.subarray(0, 1024)),
        offset: old.length - 100,
        offsetMarker: '',
        size: old.length,
        mtimeMs: 0,
        lastReadAtMs: 0,
        logCount: 199,
        bytesRead: 0,
        status: 'active',
        updatedAtMs: Date.now(),
      });
      // Tracked at its path, then renamed away before it was opened: the
      // monitor records where it went before deciding where it starts.
      const f = registry.track(path, st, 'startup');
      renameSync(path, `${path}.1`);
      f.path = `${path}.1`;
      positions.upsert(f, undefined, undefined, 'rotated');
      const saved = positions.committed(id);
      expect(saved?.path).toBe(`${path}.1`);
      expect(saved?.status).toBe('rotated');
      expect(saved?.fingerprint).toBe(
        fingerprintOf(old.subarray(0, 1024)).fingerprint,
      );
      // Decided now, the new content on that inode is told apart.
      const now = Buffer.from(lines('222'));
      const decision = decideFileResume(saved, {
        path: f.path,
        dev: f.dev,
        ino: f.ino,
        size: now.length,
        mtimeMs: 0,
        ...fingerprintOf(now.subarray(0, 1024)),
      });
      expect(decision).toMatchObject({
        action: 'start',
        offset: 0,
        reason: 'inode-reused',
      });
    });

    it('should write the head of an identity once it is read', async () => {
      const { dir, registry, positions } = await setup();
      const path = join(dir, 'a.log');
      writeFileSync(path, lines('333'));
      const st = statSync(path, { bigint: true });
      const f = registry.track(path, st, 'startup');
      positions.upsert(f, 0, '');
      expect(positions.committed(f.id)?.fingerprint).toBe('');
      f.initialized = true;
      f.fingerprint = fingerprintOf(
        Buffer.from(lines('333')).subarray(0, 1024),
      ).fingerprint;
      f.fingerprintBytes = 1024;
      positions.upsert(f);
      expect(positions.committed(f.id)?.fingerprint).toBe(f.fingerprint);
      expect(positions.committed(f.id)?.fingerprintBytes).toBe(1024);
    });
  });
});
