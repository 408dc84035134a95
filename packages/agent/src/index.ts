// Public API of @lc/agent. List exports by name (STYLE.md rule 3).
export {
  ENV_OVERRIDES,
  formatConfigIssues,
  formatPath,
  loadConfigFile,
  parseConfig,
  unwrapConfig,
  validateConfig,
} from './config/load-config.js';
export type {
  ConfigIssue,
  ConfigResult,
  ParseConfigOptions,
} from './config/load-config.js';
export { configSchema } from './config/schema.js';
export type { AgentConfig, AgentConfigInput } from './config/schema.js';
export type {
  ConditionConfig,
  PipelineConfig,
  StepConfig,
} from './config/processing-schema.js';
export { parseDurationMs, parseSizeBytes } from './config/units.js';
export { createProcessor } from './processing/create-processor.js';
export type {
  Processor,
  ProcessorOptions,
  ProcessorStats,
} from './processing/create-processor.js';
export { createProcessingIntake } from './processing/processing-intake.js';
export { createAgent } from './runtime/create-agent.js';
export type {
  Agent,
  AgentOptions,
  AgentState,
  AgentStats,
  PositionsStatus,
  ReloadResult,
} from './runtime/agent.js';
export type { BufferStatus, FileAtRisk } from './runtime/buffer-status.js';
export type {
  AgentEnv,
  KubernetesStatus,
} from './runtime/kubernetes-metadata.js';
export { createApiServer } from './api/create-api-server.js';
export type { ApiServerOptions } from './api/create-api-server.js';
export { EXIT_CODES, loadAgentConfig, runAgent } from './runtime/run-agent.js';
export type { RunAgentOptions } from './runtime/run-agent.js';
export { DEFAULT_CONFIG_YAML } from './default-config.js';
export { configJsonSchema } from './cli/commands.js';
