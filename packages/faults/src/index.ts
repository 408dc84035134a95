export { agentConfig } from './agent-config.js';
export type { AgentConfigOptions } from './agent-config.js';
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
