/**
 * The test process's environment without `LC_*` variables, for spawning an
 * `lc-agent`: those are the agent's config overrides (`LC_DOCKER_SOCKET`,
 * `LC_KAFKA_BROKERS` from `.lc-services.env`) and would silently replace
 * what a test's own config says.
 */
export function agentChildEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('LC_')) env[key] = value;
  }
  return env;
}
