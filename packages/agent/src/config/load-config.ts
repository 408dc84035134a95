import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { LcError } from '@lc/core';
import { parse as parseYaml, parseDocument } from 'yaml';
import type { z } from 'zod';
import { didYouMean } from '../internal/did-you-mean.js';
import { configSchema } from './schema.js';
import type { AgentConfig } from './schema.js';
import { describeValue } from './schema-helpers.js';

/** One configuration problem: where (`sinks.loki[0].url`) and what. */
export interface ConfigIssue {
  /** Dotted path with `[n]` indexes; empty for the whole file. */
  readonly path: string;
  /** What was expected and what was given. */
  readonly message: string;
}

/** Result of loading a configuration: the config or every problem found. */
export type ConfigResult =
  | { readonly ok: true; readonly config: AgentConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Options for {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Variables for `${VAR}` substitution and overrides. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Environment variables that override common keys after substitution,
 * so a container can be configured without editing the file. Values are
 * parsed as YAML scalars ("8401" is a number, "true" a boolean).
 */
export const ENV_OVERRIDES: Readonly<
  Record<string, readonly (string | number)[]>
> = {
  LC_LOG_LEVEL: ['app', 'log_level'],
  LC_LOG_FORMAT: ['app', 'log_format'],
  LC_DATA_DIR: ['app', 'data_dir'],
  LC_API_ENABLED: ['api', 'enabled'],
  LC_API_HOST: ['api', 'host'],
  LC_API_PORT: ['api', 'port'],
  LC_API_TOKEN: ['api', 'token'],
  LC_POSITIONS_STORE: ['positions', 'store'],
  LC_POSITIONS_PATH: ['positions', 'path'],
  LC_REDIS_URL: ['positions', 'redis_url'],
  LC_DOCKER_ENABLED: ['sources', 'docker', 'enabled'],
  LC_DOCKER_SOCKET: ['sources', 'docker', 'socket'],
  LC_LOKI_URL: ['sinks', 'loki', 0, 'url'],
  LC_LOKI_TENANT_ID: ['sinks', 'loki', 0, 'tenant_id'],
  LC_KAFKA_BROKERS: ['sinks', 'kafka', 0, 'brokers'],
};

const VAR_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;
const WHOLE_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/**
 * Parse and validate YAML configuration text. Never throws for bad input:
 * every problem (YAML syntax, unset variables, schema) is returned with its
 * path, so `lc-agent validate` can print them all at once.
 */
export function parseConfig(
  text: string,
  options: ParseConfigOptions = {},
): ConfigResult {
  const env = options.env ?? process.env;
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        path: '',
        message: `invalid YAML: ${e.message.split('\n')[0] ?? e.message}`,
      })),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      issues: [
        {
          path: '',
          message: `expected a map of sections, got ${describeValue(raw)}`,
        },
      ],
    };
  }
  const issues: ConfigIssue[] = [];
  const substituted = substitute(raw, [], env, issues) as Record<
    string,
    unknown
  >;
  applyEnvOverrides(substituted, env);
  if (issues.length > 0) return { ok: false, issues };
  return validateConfig(substituted);
}

/** Validate an already-parsed config object (after substitution). */
export function validateConfig(raw: unknown): ConfigResult {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, issues: formatIssues(parsed.error.issues, raw) };
  }
  const issues = semanticChecks(parsed.data);
  return issues.length > 0
    ? { ok: false, issues }
    : { ok: true, config: parsed.data };
}

/** Read, parse and validate a config file. */
export async function loadConfigFile(
  path: string,
  options: ParseConfigOptions = {},
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
  return parseConfig(text, options);
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

/** Render a path as `sinks.loki[0].url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function substitute(
  value: unknown,
  path: (string | number)[],
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const whole = WHOLE_REF.exec(value);
    if (whole !== null) {
      const resolved = lookup(whole[1] as string, whole[2], env, path, issues);
      return resolved === undefined ? value : parseScalar(resolved);
    }
    return value.replace(VAR_REF, (match, name?: string, fallback?: string) => {
      if (match === '$$') return '$';
      return lookup(name as string, fallback, env, path, issues) ?? match;
    });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => substitute(v, [...path, i], env, issues));
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = substitute(v, [...path, k], env, issues);
    }
    return out;
  }
  return value;
}

function lookup(
  name: string,
  fallback: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  path: (string | number)[],
  issues: ConfigIssue[],
): string | undefined {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  issues.push({
    path: formatPath(path),
    message: `environment variable "${name}" is not set (use \${${name}:-default} for a default)`,
  });
  return undefined;
}

function parseScalar(text: string): unknown {
  if (text === '') return '';
  try {
    const v: unknown = parseYaml(text);
    return typeof v === 'object' && v !== null ? text : v;
  } catch {
    return text;
  }
}

function applyEnvOverrides(
  root: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): void {
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    let value = parseScalar(text);
    if (name === 'LC_KAFKA_BROKERS')
      value = text.split(',').map((s) => s.trim());
    let node: Record<string | number, unknown> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i] as string | number;
      const nextIsIndex = typeof path[i + 1] === 'number';
      if (typeof node[key] !== 'object' || node[key] === null) {
        // Only override a sink that exists; never invent one from env.
        if (nextIsIndex || typeof key === 'number') break;
        node[key] = {};
      }
      node = node[key] as Record<string | number, unknown>;
      if (i === path.length - 2) node[path[i + 1] as string | number] = value;
    }
    if (path.length === 1) root[path[0] as string] = value;
  }
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
    const input = valueAt(raw, issue.path);
    let message = issue.message;
    if (issue.code === 'invalid_type') {
      message = `expected ${issue.expected === 'object' ? 'a map' : issue.expected === 'array' ? 'a list' : issue.expected}, got ${describeValue(input)}`;
    } else if (issue.code === 'invalid_value') {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const hint =
        typeof input === 'string'
          ? didYouMean(input, issue.values.map(String))
          : undefined;
      message = `expected one of ${allowed.join(', ')}, got ${describeValue(input)}${hint === undefined ? '' : `; did you mean "${hint}"?`}`;
    } else if (issue.code === 'too_small' || issue.code === 'too_big') {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const what =
        issue.origin === 'array'
          ? `${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} item(s)`
          : issue.origin === 'string'
            ? `a string of ${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} character(s)`
            : `a number ${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)}`;
      message = `expected ${what}, got ${describeValue(input)}`;
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

function semanticChecks(config: AgentConfig): ConfigIssue[] {
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
  if (
    config.dispatcher.spill.enabled &&
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
  return issues;
}
