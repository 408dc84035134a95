import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { collectSecrets } from '../config/redact-secrets.js';
import { createSecretScrubber } from '../config/secret-scrubber.js';
import { holdDataDir } from '../runtime/data-dir-lock.js';
import type { DataDirLock } from '../runtime/data-dir-lock.js';
import { EXIT_CODES } from '../runtime/exit-codes.js';
import { loadAgentConfig } from '../runtime/load-agent-config.js';
import { reportFailure, scrubOutputWith } from './output.js';

/** Options every config-reading command takes. */
export interface ConfigOptions {
  readonly config?: string;
  readonly json?: boolean;
}

/**
 * The config an offline command (`positions`, `dlq`) works with, or
 * undefined after reporting why not (exit 2). Every check `run` makes on
 * the config itself applies; whether the agent's paths are writable by
 * this user does not (an operator may inspect what the agent's user
 * writes). Everything printed afterwards is scrubbed of its secrets.
 */
export async function configForCommand(
  opts: ConfigOptions,
): Promise<AgentConfig | undefined> {
  const result = await loadAgentConfig(opts.config, undefined, {
    paths: false,
  });
  if (!result.ok) {
    reportFailure(
      opts.json,
      EXIT_CODES.config,
      result.issues,
      `invalid configuration${opts.config === undefined ? '' : ` in ${opts.config}`}`,
    );
    return undefined;
  }
  scrubOutputWith(createSecretScrubber(collectSecrets(result.config)));
  return result.config;
}

/** Whether `path` is an existing directory (nothing is created to find out). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Where the DLQ of `config` lives. */
export function dlqDirectory(config: AgentConfig): string {
  return resolve(config.dlq.directory ?? resolve(config.app.data_dir, 'dlq'));
}

/**
 * Commands that open the on-disk logs take the data directory's lock, so
 * they never run beside a live agent (use its API instead); undefined,
 * with exit 2 and a line naming the holder, when an agent holds it.
 */
export function lockDataDir(
  config: AgentConfig,
  json: boolean | undefined,
): DataDirLock | undefined {
  const held = holdDataDir(config.app.data_dir, undefined);
  if (held.ok) return held.lock;
  reportFailure(json, EXIT_CODES.config, [
    {
      message: `${held.message}; use the running agent's API (GET /dlq, POST /dlq/replay) or stop it first`,
    },
  ]);
  return undefined;
}
