import { loadConfigFile, parseConfig } from '../config/load-config.js';
import type { ConfigResult } from '../config/load-config.js';
import type { ConfigIssue } from '../config/raw-config.js';
import type { AgentConfig } from '../config/schema.js';
import { collectSecrets } from '../config/redact-secrets.js';
import { createSecretScrubber } from '../config/secret-scrubber.js';
import { modulesBase } from '../config/sink-modules.js';
import { DEFAULT_CONFIG_YAML } from '../default-config.js';
import { checkSinkAvailability } from './build-sinks.js';
import { checkIncludeRoots, checkWrittenPaths } from './check-paths.js';
import { checkCustomSinks } from './custom-sinks.js';
import { probeComponents } from './probe-components.js';
import { readSinkFiles } from './sink-files.js';

/** A loaded config, or every problem found; either way the warnings. */
export type AgentConfigResult = ConfigResult & {
  /** Problems that do not stop the agent (an include directory that does not exist yet). */
  readonly warnings: readonly ConfigIssue[];
};

/** Options of {@link checkAgentConfig}. */
export interface CheckOptions {
  /**
   * Check that every path the agent writes is writable or creatable by
   * this process. Off for offline commands run by another user than the
   * agent's. @default true
   */
  readonly paths?: boolean;
}

/**
 * Every check `lc-agent run` makes before it builds anything, short of
 * connecting: the schema and cross-key rules, the files sinks name (TLS
 * material, secret files) read and checked, each component built (not
 * started) with its factory's option errors mapped to config keys, and
 * every path it would write checked as writable or creatable (nothing is
 * created). `validate`, `run`, a reload and the offline commands all call
 * this, so they cannot disagree. No message holds a secret of the config.
 */
export async function checkAgentConfig(
  config: AgentConfig,
  options: CheckOptions = {},
): Promise<{
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}> {
  const scrubber = createSecretScrubber(collectSecrets(config));
  const scrub = (list: ConfigIssue[]) =>
    list.map((i) => ({ ...i, message: scrubber.scrub(i.message) }));
  const unavailable = checkSinkAvailability(config);
  // TLS and secret files: readable, PEM, key matches certificate.
  const files = readSinkFiles(config);
  const issues =
    unavailable.length > 0
      ? unavailable
      : [
          ...(files.ok ? [] : files.issues),
          ...(await probeComponents(config, { sinks: files.ok })),
          ...(options.paths === false ? [] : checkWrittenPaths(config)),
        ];
  return {
    issues: scrub(issues),
    warnings: scrub(checkIncludeRoots(config)),
  };
}

/**
 * Load a config file, or the embedded default when no path is given
 * (`text`: its content, already read), check its custom sink modules
 * (resolved from the file's directory, imported, factory exported), and
 * run {@link checkAgentConfig}.
 */
export async function loadAgentConfig(
  configPath: string | undefined,
  text?: string,
  options: CheckOptions = {},
): Promise<AgentConfigResult> {
  const result =
    text !== undefined
      ? parseConfig(text)
      : configPath === undefined
        ? parseConfig(DEFAULT_CONFIG_YAML)
        : await loadConfigFile(configPath, { resolveModules: false });
  if (!result.ok) return { ...result, warnings: [] };
  // Custom sink modules resolve from the config file's directory.
  const custom = await checkCustomSinks(result.config, modulesBase(configPath));
  if (!custom.ok) return { ...custom, warnings: [] };
  const { issues, warnings } = await checkAgentConfig(custom.config, options);
  return issues.length > 0
    ? { ok: false, issues, warnings }
    : { ok: true, config: custom.config, warnings };
}
