export { createInMemorySink } from './in-memory-sink.js';
export type {
  InMemorySink,
  InMemorySinkBehaviour,
  InMemorySinkCall,
  InMemorySinkOptions,
} from './in-memory-sink.js';
export { createInMemoryPositionStore } from './in-memory-position-store.js';
export type { InMemoryPositionStore } from './in-memory-position-store.js';
export { createFakeClock } from './fake-clock.js';
export type { FakeClock } from './fake-clock.js';
export { createCollectingIntake } from './collecting-intake.js';
export type {
  CollectingIntake,
  CollectingIntakeOptions,
} from './collecting-intake.js';
export {
  describeSinkContract,
  makeContractRecords,
} from './describe-sink-contract.js';
export type {
  SinkContractOptions,
  SinkContractSubject,
} from './describe-sink-contract.js';
export {
  describePositionStoreContract,
  makeContainerPosition,
  makeFilePosition,
} from './describe-position-store-contract.js';
export type { PositionStoreContractSubject } from './describe-position-store-contract.js';
