import { readdir } from 'node:fs/promises';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { openStores } from './build-stores.js';

describe('openStores', () => {
  it('should open the DLQ and the WAL under data_dir by default', async () => {
    const tmp = await createTempDir('lc-build-stores-');
    const config = unwrapConfig(
      parseConfig(`app: {data_dir: ${tmp.path}}\nsinks: {stdout: [{}]}`, {
        env: {},
      }),
    );
    const stores = await openStores(config, {});
    expect(stores.deadLetters).toBeDefined();
    expect(stores.batchStore).toBeDefined();
    expect((await readdir(tmp.path)).sort()).toEqual(['dlq', 'wal']);
    await stores.batchStore?.shutdown();
    await stores.deadLetters?.close();
    await tmp.cleanup();
  });

  it('should open nothing the config turns off, and use given directories', async () => {
    const tmp = await createTempDir('lc-build-stores-');
    const off = unwrapConfig(
      parseConfig(
        `app: {data_dir: ${tmp.path}}\ndlq: {enabled: false}\npersistence: {enabled: false}\nsinks: {stdout: [{}]}`,
        { env: {} },
      ),
    );
    expect(await openStores(off, {})).toEqual({
      deadLetters: undefined,
      batchStore: undefined,
    });
    const moved = unwrapConfig(
      parseConfig(
        `app: {data_dir: ${tmp.path}/data}\ndlq: {directory: ${tmp.path}/d}\npersistence: {enabled: false}\nsinks: {stdout: [{}]}`,
        { env: {} },
      ),
    );
    const stores = await openStores(moved, {});
    expect(stores.batchStore).toBeUndefined();
    expect(await readdir(tmp.path)).toEqual(['d']);
    await stores.deadLetters?.close();
    await tmp.cleanup();
  });
});
