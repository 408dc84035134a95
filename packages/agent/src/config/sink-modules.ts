import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve as resolveModule } from 'import-meta-resolve';
import type { AgentConfig } from './schema.js';

/**
 * The URL of the module a `sinks.custom[].module` names, resolved as Node
 * resolves an `import` written in `from` (the config file, or a directory
 * path ending in "/"): relative paths against it, package names through
 * the `node_modules` above it (their `exports`, `import` condition). An
 * already resolved `file:` URL is kept. Throws Node's resolution error.
 */
export function resolveSinkModule(specifier: string, from: string): string {
  const url = specifier.startsWith('file:')
    ? specifier
    : resolveModule(specifier, pathToFileURL(from).href);
  if (url.startsWith('file:') && !existsSync(fileURLToPath(url)))
    throw new Error(`${fileURLToPath(url)} does not exist`);
  return url;
}

/** `from` for a config file path, or the working directory without one. */
export function modulesBase(configPath: string | undefined): string {
  return configPath === undefined
    ? `${process.cwd()}/`
    : resolvePath(configPath);
}

/**
 * `config` with each `sinks.custom[].module` that resolves from `from`
 * replaced by its `file:` URL; the others are kept as written (checking
 * them reports why). What `loadConfigFile` does, so a config loaded from a
 * file finds its modules wherever the process runs.
 */
export function resolveSinkModules(
  config: AgentConfig,
  from: string,
): AgentConfig {
  if (config.sinks.custom.length === 0) return config;
  const custom = config.sinks.custom.map((entry) => {
    try {
      return { ...entry, module: resolveSinkModule(entry.module, from) };
    } catch {
      return entry;
    }
  });
  return { ...config, sinks: { ...config.sinks, custom } };
}
