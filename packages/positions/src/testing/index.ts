// Test doubles and conformance helpers of @lc/positions.
export {
  createInMemoryPositionStore,
  describePositionStoreContract,
  makeContainerPosition,
  makeFilePosition,
} from '@lc/core/testing';
export type {
  InMemoryPositionStore,
  PositionStoreContractSubject,
} from '@lc/core/testing';
