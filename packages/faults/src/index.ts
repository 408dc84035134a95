export { agentConfig, DEFAULT_IN_FLIGHT_LINES } from './agent-config.js';
export type { AgentConfigOptions } from './agent-config.js';
export { createCriWriter } from './cri-writer.js';
export type { CriWriter, CriWriterOptions } from './cri-writer.js';
export { createLineWriter } from './line-writer.js';
export type {
  LineWriter,
  LineWriterOptions,
  RotationMode,
} from './line-writer.js';
export { readFileSink, waitFor } from './read-file-sink.js';
export { spawnAgent } from './spawn-agent.js';
export type { AgentProcess, SpawnAgentOptions } from './spawn-agent.js';
export { formatTallies, tally } from './tally.js';
export type { Tally } from './tally.js';
export { consumeTopic, startMockBroker } from './kafka-mock.js';
export type { MockBroker } from './kafka-mock.js';
export { createKafkaProxy, rewriteMetadataPorts } from './kafka-proxy.js';
export type { KafkaProxy } from './kafka-proxy.js';
export { superviseAgent } from './supervise.js';
export type { SupervisedAgent } from './supervise.js';
export { randomBetween, runKillSchedule } from './kill-schedule.js';
export type {
  KillScheduleOptions,
  KillScheduleResult,
  StopSignal,
} from './kill-schedule.js';
export { createScenario } from './scenario.js';
export type { Scenario } from './scenario.js';
