import { createTempDir } from '@lc/test-utils';
import { createBatchPersistence } from '../src/batch-persistence.js';
import type { BatchPersistence } from '../src/batch-persistence.js';
import { createDeadLetterStore } from '../src/dead-letter-store.js';
import {
  createInMemoryBatchStore,
  createInMemoryBatchStoreStorage,
  createInMemoryDeadLetterStore,
  describeBatchStoreContract,
  describeDeadLetterStoreContract,
} from '../src/testing/index.js';
import type { DeadLetterEntry } from '@lc/core';

describeBatchStoreContract('createBatchPersistence', async () => {
  const dir = await createTempDir('lc-persistence-contract-');
  return {
    open: () => createBatchPersistence({ directory: dir.path, fsync: 'never' }),
    deadLettersOf: (store) => (store as BatchPersistence).deadLetters,
    cleanup: () => dir.cleanup(),
  };
});

describeBatchStoreContract('createInMemoryBatchStore', () => {
  const storage = createInMemoryBatchStoreStorage();
  return {
    open: async () => createInMemoryBatchStore({ storage }),
    deadLettersOf: (store) =>
      (store as ReturnType<typeof createInMemoryBatchStore>).deadLetters,
  };
});

describeDeadLetterStoreContract('createDeadLetterStore', async () => {
  const dir = await createTempDir('lc-dlq-contract-');
  return {
    store: await createDeadLetterStore({ directory: dir.path, fsync: 'never' }),
    reopen: () =>
      createDeadLetterStore({ directory: dir.path, fsync: 'never' }),
    cleanup: () => dir.cleanup(),
  };
});

describeDeadLetterStoreContract('createInMemoryDeadLetterStore', () => {
  const entries: DeadLetterEntry[] = [];
  return {
    store: createInMemoryDeadLetterStore({ entries }),
    reopen: async () => createInMemoryDeadLetterStore({ entries }),
  };
});
