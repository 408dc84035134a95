import { createCollectingIntake } from '@lc/core/testing';
import type { CollectingIntake } from '@lc/core/testing';
import type { PositionStore } from '@lc/core';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import type { PositionManager, PositionManagerOptions } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { createFileMonitor } from '../src/index.js';
import type { FileMonitor, FileMonitorOptions } from '../src/index.js';

/** A monitor over a temp dir, with a collecting intake that commits instantly. */
export interface FileHarness {
  readonly dir: TempDir;
  readonly positions: PositionManager;
  readonly store: PositionStore;
  readonly intake: CollectingIntake;
  readonly monitor: FileMonitor;
  lines(): string[];
  /** Restart the monitor on the same positions (same store, new manager). */
  restart(overrides?: Partial<FileMonitorOptions>): Promise<FileHarness>;
  close(): Promise<void>;
}

export async function fileHarness(
  overrides: Partial<FileMonitorOptions> = {},
  existing?: { dir: TempDir; store: PositionStore },
  positionOptions: Partial<PositionManagerOptions> = {},
): Promise<FileHarness> {
  const dir = existing?.dir ?? (await createTempDir('lc-fm-'));
  const store = existing?.store ?? createMemoryPositionStore();
  const positions = createPositionManager({
    store,
    closeStoreOnShutdown: false,
    ...positionOptions,
  });
  await positions.start();
  const intake = createCollectingIntake({
    autoCommit: positions,
    ...(overrides.intake === undefined ? {} : {}),
  });
  const monitor = createFileMonitor({
    intake,
    positions,
    include: [`${dir.path}/**/*.log`],
    pollIntervalMs: 20,
    rescanIntervalMs: 200,
    rotatedFileGraceMs: 300,
    deletedFileGraceMs: 300,
    partialLineFlushMs: 100,
    ...overrides,
  });
  const h: FileHarness = {
    dir,
    positions,
    store,
    intake,
    monitor,
    lines: () => intake.records.map((r) => r.line),
    async restart(more = {}) {
      await monitor.shutdown();
      await positions.flush();
      await positions.shutdown();
      return fileHarness(
        { ...overrides, ...more },
        { dir, store },
        positionOptions,
      );
    },
    async close() {
      await monitor.shutdown();
      await positions.shutdown();
      await dir.cleanup();
    },
  };
  return h;
}

/** Poll `predicate` until true; throws with `what` after `timeoutMs`. */
export async function eventually(
  predicate: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
