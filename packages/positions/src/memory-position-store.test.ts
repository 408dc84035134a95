import { describePositionStoreContract } from '@lc/core/testing';
import { createMemoryPositionStore } from './memory-position-store.js';

describePositionStoreContract('memory', () => ({
  store: createMemoryPositionStore(),
}));
