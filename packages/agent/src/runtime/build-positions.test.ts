import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '@lc/core';
import {
  createInMemoryPositionStore,
  makeContainerPosition,
  makeFilePosition,
} from '@lc/core/testing';
import { createTempDir } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { buildPositions, createPositionStore } from './build-positions.js';

const config = (yaml: string) =>
  unwrapConfig(parseConfig(`${yaml}\nsinks: {stdout: [{}]}`, { env: {} }));
const inst = { logger: silentLogger, registry: new Registry() };

describe('createPositionStore', () => {
  it('should keep positions in <data_dir>/positions.json by default', async () => {
    const tmp = await createTempDir('lc-build-positions-');
    const store = createPositionStore(
      config(`app: {data_dir: ${tmp.path}}`),
      silentLogger,
      new Registry(),
    );
    await store.save({ upserts: [makeFilePosition('1:2', 3)] });
    await store.close();
    expect(existsSync(join(tmp.path, 'positions.json'))).toBe(true);
    await tmp.cleanup();
  });

  it('should keep positions in memory when asked', async () => {
    const store = createPositionStore(
      config('positions: {store: memory}'),
      silentLogger,
      new Registry(),
    );
    expect(await store.load()).toEqual([]);
  });
});

describe('buildPositions', () => {
  it('should manage the store it is given, committing and saving on flush', async () => {
    const store = createInMemoryPositionStore();
    const positions = buildPositions(
      config('positions: {flush_interval: 1h}'),
      inst,
      store,
    );
    await positions.start();
    positions.upsertContainer(makeContainerPosition('c1'));
    await positions.flush();
    expect((await store.load()).map((p) => p.id)).toEqual(['c1']);
    await positions.shutdown();
  });
});
