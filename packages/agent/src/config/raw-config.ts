import { parse as parseYaml, parseDocument } from 'yaml';
import { describeValue } from '../internal/describe-value.js';

/** One configuration problem: where (`sinks.loki[0].url`) and what. */
export interface ConfigIssue {
  /** Dotted path with `[n]` indexes; empty for the whole file. */
  readonly path: string;
  /** What was expected and what was given. */
  readonly message: string;
}

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
/** {@link VAR_REF} anchored at `lastIndex`. */
const REF_AT = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/y;

/**
 * What is wrong with the first `${` of `value` that is not a complete
 * reference, or undefined. Names only the variable-name part, never the
 * rest of the value (it may be a secret).
 */
function badReference(value: string): string | undefined {
  for (let i = value.indexOf('$'); i !== -1; i = value.indexOf('$', i + 1)) {
    REF_AT.lastIndex = i;
    const m = REF_AT.exec(value);
    if (m !== null) {
      i += m[0].length - 1;
      continue;
    }
    if (value[i + 1] !== '{') continue;
    const name = /^[A-Za-z0-9_]*/.exec(value.slice(i + 2))?.[0] ?? '';
    if (value.indexOf('}', i) === -1)
      return `unterminated variable reference "\${${name}" (missing "}"; write "$\${" for a literal "\${")`;
    return `invalid variable reference "\${${name}…": a name is letters, digits and "_", not starting with a digit, optionally followed by ":-default" (write "$\${" for a literal "\${")`;
  }
  return undefined;
}

/** A config file parsed and substituted, not yet validated against the schema. */
export type RawConfigResult =
  | { readonly ok: true; readonly raw: Record<string, unknown> }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Parse YAML configuration text, substitute `${VAR}` references and apply
 * the `LC_*` overrides: the config as the schema will see it. Never throws
 * for bad input.
 */
export function readRawConfig(
  text: string,
  options: ParseConfigOptions = {},
): RawConfigResult {
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
  return { ok: true, raw: substituted };
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
    const bad = badReference(value);
    if (bad !== undefined) {
      issues.push({ path: formatPath(path), message: bad });
      return value;
    }
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
