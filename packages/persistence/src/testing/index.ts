// Test doubles and conformance helpers of @lc/persistence.
export {
  createInMemoryBatchStore,
  createInMemoryBatchStoreStorage,
} from './in-memory-batch-store.js';
export type {
  InMemoryBatchStore,
  InMemoryBatchStoreStorage,
} from './in-memory-batch-store.js';
export { createInMemoryDeadLetterStore } from './in-memory-dead-letter-store.js';
export type { InMemoryDeadLetterStore } from './in-memory-dead-letter-store.js';
export {
  describeBatchStoreContract,
  makeContractBatch,
} from './describe-batch-store-contract.js';
export type { BatchStoreContractSubject } from './describe-batch-store-contract.js';
export {
  describeDeadLetterStoreContract,
  makeDeadLetters,
} from './describe-dead-letter-store-contract.js';
export type { DeadLetterStoreContractSubject } from './describe-dead-letter-store-contract.js';
