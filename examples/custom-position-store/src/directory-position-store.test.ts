import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePositionStoreContract } from '@lc/core/testing';
import { createDirectoryPositionStore } from './directory-position-store.js';

// One call runs the same suite as the built-in JSON file and Redis stores.
describePositionStoreContract('directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-dir-store-'));
  return {
    store: createDirectoryPositionStore(dir),
    reopen: async () => createDirectoryPositionStore(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
