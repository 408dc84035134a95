import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { LcError } from '@lc/core';
import type { z } from 'zod';
import { didYouMean } from '../internal/did-you-mean.js';
import { formatPath, readRawConfig } from './raw-config.js';
import type { ConfigIssue, ParseConfigOptions } from './raw-config.js';
import { kafkaClientIssues } from './kafka-client-check.js';
import { configSchema } from './schema.js';
import { resolveSinkModules } from './sink-modules.js';
import type { AgentConfig } from './schema.js';
import { describeValue } from '../internal/describe-value.js';
import { collectSecrets, isSecretPath } from './redact-secrets.js';
import { createSecretScrubber } from './secret-scrubber.js';

export { ENV_OVERRIDES, formatPath } from './raw-config.js';
export type { ConfigIssue, ParseConfigOptions } from './raw-config.js';

/** Result of loading a configuration: the config or every problem found. */
export type ConfigResult =
  | { readonly ok: true; readonly config: AgentConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Parse and validate YAML configuration text. Never throws for bad input:
 * every problem (YAML syntax, unset variables, schema) is returned with its
 * path, so `lc-agent validate` can print them all at once.
 */
export function parseConfig(
  text: string,
  options: ParseConfigOptions = {},
): ConfigResult {
  const raw = readRawConfig(text, options);
  return raw.ok ? validateConfig(raw.raw) : raw;
}

/**
 * Validate an already-parsed config object (after substitution). No
 * message echoes a secret: values at secret keys are described by type
 * only, and every secret the config holds is scrubbed from the messages.
 */
export function validateConfig(raw: unknown): ConfigResult {
  const parsed = configSchema.safeParse(raw);
  const issues = parsed.success
    ? semanticChecks(parsed.data, raw)
    : formatIssues(parsed.error.issues, raw);
  if (parsed.success && issues.length === 0)
    return { ok: true, config: parsed.data };
  const scrubber = createSecretScrubber(collectSecrets(raw));
  return {
    ok: false,
    issues: issues.map((i) => ({ ...i, message: scrubber.scrub(i.message) })),
  };
}

/** Options for {@link loadConfigFile}. */
export interface LoadConfigFileOptions extends ParseConfigOptions {
  /**
   * Replace each `sinks.custom[].module` that resolves from the file's
   * directory by its `file:` URL, so the agent imports it wherever it
   * runs from. `lc-agent` turns this off and checks the modules itself,
   * to report them as written. @default true
   */
  resolveModules?: boolean;
}

/**
 * Read, parse and validate a config file. `sinks.custom[].module` paths
 * and package names are resolved from the file's directory.
 */
export async function loadConfigFile(
  path: string,
  options: LoadConfigFileOptions = {},
): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      ok: false,
      issues: [
        {
          path: '',
          message: `cannot read ${path}: ${(error as Error).message}`,
        },
      ],
    };
  }
  const result = parseConfig(text, options);
  // Custom sink modules are named relative to the file.
  return result.ok && options.resolveModules !== false
    ? { ok: true, config: resolveSinkModules(result.config, resolve(path)) }
    : result;
}

/** Throw `LC_ERR_CONFIG` listing every issue, for programmatic callers. */
export function unwrapConfig(result: ConfigResult): AgentConfig {
  if (result.ok) return result.config;
  throw new LcError({
    code: 'LC_ERR_CONFIG',
    message: `invalid configuration:\n${formatConfigIssues(result.issues)}`,
    details: { issues: result.issues },
  });
}

/** One line per issue: `path: message`. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map((i) =>
      i.path === '' ? `  ${i.message}` : `  ${i.path}: ${i.message}`,
    )
    .join('\n');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function formatIssues(
  zodIssues: readonly z.core.$ZodIssue[],
  raw: unknown,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of zodIssues) {
    if (issue.code === 'unrecognized_keys') {
      const messages = issue.message.split('; ');
      issue.keys.forEach((key, i) => {
        out.push({
          path: formatPath([...issue.path, key]),
          message: messages[i] ?? `unknown key "${key}"`,
        });
      });
      continue;
    }
    const secret = isSecretPath(issue.path);
    const input = valueAt(raw, issue.path);
    // A secret is described by its type only: never echoed, even when wrong.
    const describe = (v: unknown): string =>
      secret && (typeof v !== 'object' || v === null) && v !== undefined
        ? `a ${typeof v}`
        : describeValue(v);
    let message = secret
      ? issue.message.replace(/, got .*$/s, `, got ${describe(input)}`)
      : issue.message;
    if (issue.code === 'invalid_type') {
      message = `expected ${issue.expected === 'object' ? 'a map' : issue.expected === 'array' ? 'a list' : issue.expected}, got ${describe(input)}`;
    } else if (issue.code === 'invalid_value') {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const hint =
        typeof input === 'string'
          ? didYouMean(input, issue.values.map(String))
          : undefined;
      message = `expected one of ${allowed.join(', ')}, got ${describe(input)}${hint === undefined || secret ? '' : `; did you mean "${hint}"?`}`;
    } else if (issue.code === 'too_small' || issue.code === 'too_big') {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const what =
        issue.origin === 'array'
          ? `${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} item(s)`
          : issue.origin === 'string'
            ? `a string of ${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} character(s)`
            : `a number ${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)}`;
      message = `expected ${what}, got ${describe(input)}`;
    }
    out.push({ path: formatPath(issue.path), message });
  }
  return out;
}

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host === '::1' ||
    (isIP(host) === 4 && host.startsWith('127.'))
  );
}

function semanticChecks(config: AgentConfig, raw: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, string>();
  for (const [type, list] of Object.entries(config.sinks)) {
    list.forEach((sink: { name?: string }, i: number) => {
      const name = sink.name ?? (list.length === 1 ? type : `${type}-${i}`);
      const path = `sinks.${type}[${i}].name`;
      const other = names.get(name);
      if (other !== undefined) {
        issues.push({
          path,
          message: `duplicate sink name "${name}" (also ${other})`,
        });
      }
      names.set(name, path);
    });
  }
  if (
    config.api.enabled &&
    !isLoopback(config.api.host) &&
    config.api.token === undefined
  ) {
    issues.push({
      path: 'api.token',
      message: `a token is required when the API binds to a non-loopback address ("${config.api.host}")`,
    });
  }
  if (
    config.positions.store === 'redis' &&
    config.positions.redis_url === undefined
  ) {
    issues.push({
      path: 'positions.redis_url',
      message: 'required when positions.store is "redis"',
    });
  }
  // The disk buffer is on by default and simply unused under a drop
  // policy; turning it on explicitly with one is a contradiction.
  if (
    valueAt(raw, ['dispatcher', 'spill', 'enabled']) === true &&
    config.dispatcher.drop_policy !== 'block'
  ) {
    issues.push({
      path: 'dispatcher.spill.enabled',
      message: `spill needs dispatcher.drop_policy "block", got "${config.dispatcher.drop_policy}"`,
    });
  }
  const pipelines = new Set<string>();
  config.processing.pipelines.forEach((p, i) => {
    if (pipelines.has(p.name)) {
      issues.push({
        path: `processing.pipelines[${i}].name`,
        message: `duplicate pipeline name "${p.name}"`,
      });
    }
    pipelines.add(p.name);
  });
  issues.push(...kafkaClientIssues(config));
  return issues;
}
