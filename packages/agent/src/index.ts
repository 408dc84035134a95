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
  LoadConfigFileOptions,
  ParseConfigOptions,
} from './config/load-config.js';
export { configSchema } from './config/schema.js';
export type { AgentConfig, AgentConfigInput } from './config/schema.js';
export { parseDurationMs, parseSizeBytes } from './config/units.js';
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
  ComponentHealth,
  Readiness,
  SinkHealth,
  SourcesHealth,
} from './runtime/readiness.js';
export type {
  AgentEnv,
  KubernetesStatus,
} from './runtime/kubernetes-metadata.js';
export { createApiServer } from './api/create-api-server.js';
export type { ApiServerOptions } from './api/create-api-server.js';
export { EXIT_CODES, loadAgentConfig, runAgent } from './runtime/run-agent.js';
export { checkAgentConfig } from './runtime/load-agent-config.js';
export type {
  AgentConfigResult,
  CheckOptions,
} from './runtime/load-agent-config.js';
export { redactSecrets } from './config/redact-secrets.js';
export type { RunAgentOptions } from './runtime/run-agent.js';
export { DEFAULT_CONFIG_YAML } from './default-config.js';
export { configJsonSchema } from './cli/commands.js';
