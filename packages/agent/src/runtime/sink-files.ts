import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LcError } from '@lc/core';
import { checkSinkTls } from '@lc/sinks';
import type { SinkTlsOptions } from '@lc/sinks';
import type { ConfigIssue } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';

type TlsConfig = NonNullable<AgentConfig['sinks']['loki'][number]['tls']>;

/** Secrets and TLS material the sinks of one config read from files. */
export interface SinkFiles {
  /** TLS options of a sink (`sinks.<type>[<index>]`), contents resolved. */
  tls(type: string, index: number): SinkTlsOptions | undefined;
  /** A secret (`password`, `bearer_token`) inline or from its `_file`. */
  secret(type: string, index: number, key: string): string | undefined;
  /**
   * Every secret read from a file (passwords, tokens, key passwords, private
   * keys) and the Basic-auth form of a password, for the log scrubber: the
   * config holds only their paths.
   */
  readonly secretValues: readonly string[];
  /**
   * Hash of every file read, with its path: a reload rebuilds the sinks
   * when it changes, even if the config text did not (rotated certificates).
   */
  readonly fingerprint: string;
}

/** The result of {@link readSinkFiles}: files, or every problem found. */
export type SinkFilesResult =
  | { readonly ok: true; readonly files: SinkFiles }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

const TLS_KEYS: Readonly<Record<string, keyof TlsConfig>> = {
  ca: 'ca_file',
  cert: 'cert_file',
  key: 'key_file',
  keyPassword: 'key_password',
  serverName: 'server_name',
  minVersion: 'min_version',
  insecureSkipVerify: 'insecure_skip_verify',
};

/** One trailing newline is not part of a secret written with `echo`. */
const stripNewline = (text: string): string => text.replace(/\r?\n$/, '');

/**
 * Read every file the sinks of `config` name (`tls.*_file`,
 * `key_password_file`, `password_file`, `bearer_token_file`) and check
 * the TLS material as the sink factories will (PEM that parses, an
 * encrypted key its password opens, a key that matches its certificate).
 * Each issue names the config path and the file:
 * `sinks.loki[0].tls.ca_file: cannot read /x: ENOENT (no such file or directory)`.
 * Synchronous: the files are small and read once per start or reload.
 */
export function readSinkFiles(config: AgentConfig): SinkFilesResult {
  const issues: ConfigIssue[] = [];
  const hash = createHash('sha256');
  const tlsBy = new Map<string, SinkTlsOptions>();
  const secrets = new Map<string, string>();
  const fromFiles = new Set<string>();
  const read = (path: string, file: string): string | undefined => {
    try {
      const text = readFileSync(file, 'utf8');
      hash.update(`${path}\u0000${file}\u0000${text}\u0000`);
      return text;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const why =
        e.code === 'ENOENT'
          ? 'ENOENT (no such file or directory)'
          : e.code === 'EACCES'
            ? 'EACCES (permission denied: the agent user cannot read it)'
            : e.code === 'EISDIR'
              ? 'EISDIR (a directory, not a file)'
              : (e.code ?? e.message);
      issues.push({ path, message: `cannot read ${file}: ${why}` });
      return undefined;
    }
  };
  const secret = (
    base: string,
    key: string,
    inline: string | undefined,
    file: string | undefined,
  ): string | undefined => {
    if (file === undefined) return inline;
    const text = read(`${base}.${key}_file`, file);
    if (text === undefined) return undefined;
    const value = stripNewline(text);
    fromFiles.add(value);
    if (value === '')
      issues.push({ path: `${base}.${key}_file`, message: `${file} is empty` });
    return value;
  };

  for (const [type, list] of Object.entries(config.sinks)) {
    if (!Array.isArray(list)) continue;
    list.forEach((raw: unknown, index: number) => {
      const s = raw as {
        tls?: TlsConfig;
        username?: string;
        password?: string;
        password_file?: string;
        bearer_token?: string;
        bearer_token_file?: string;
        sasl?: { password?: string; password_file?: string };
      };
      const base = `sinks.${type}[${index}]`;
      const key = `${type}[${index}]`;
      const password = secret(base, 'password', s.password, s.password_file);
      if (password !== undefined) secrets.set(`${key}.password`, password);
      if (password !== undefined && s.password_file !== undefined)
        fromFiles.add(
          Buffer.from(`${s.username ?? ''}:${password}`).toString('base64'),
        );
      const token = secret(
        base,
        'bearer_token',
        s.bearer_token,
        s.bearer_token_file,
      );
      if (token !== undefined) secrets.set(`${key}.bearer_token`, token);
      if (s.sasl !== undefined) {
        const sasl = secret(
          `${base}.sasl`,
          'password',
          s.sasl.password,
          s.sasl.password_file,
        );
        if (sasl !== undefined) secrets.set(`${key}.sasl.password`, sasl);
      }
      if (s.tls !== undefined) {
        const tls = readTls(`${base}.tls`, s.tls, read, secret, issues);
        if (tls !== undefined) tlsBy.set(key, tls);
      }
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  const fingerprint = hash.digest('hex');
  return {
    ok: true,
    files: {
      tls: (type, index) => tlsBy.get(`${type}[${index}]`),
      secretValues: [
        ...fromFiles,
        ...[...tlsBy.values()].flatMap((t) =>
          t.key === undefined ? [] : [String(t.key)],
        ),
      ],
      secret: (type, index, name) => secrets.get(`${type}[${index}].${name}`),
      fingerprint,
    },
  };
}

function readTls(
  path: string,
  t: TlsConfig,
  read: (path: string, file: string) => string | undefined,
  secret: (
    base: string,
    key: string,
    inline: string | undefined,
    file: string | undefined,
  ) => string | undefined,
  issues: ConfigIssue[],
): SinkTlsOptions | undefined {
  const before = issues.length;
  const ca =
    t.ca_file === undefined ? undefined : read(`${path}.ca_file`, t.ca_file);
  const cert =
    t.cert_file === undefined
      ? undefined
      : read(`${path}.cert_file`, t.cert_file);
  const key =
    t.key_file === undefined ? undefined : read(`${path}.key_file`, t.key_file);
  const keyPassword = secret(
    path,
    'key_password',
    t.key_password,
    t.key_password_file,
  );
  if (issues.length > before) return undefined;
  const tls: SinkTlsOptions = {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(keyPassword === undefined ? {} : { keyPassword }),
    ...(t.server_name === undefined ? {} : { serverName: t.server_name }),
    ...(t.insecure_skip_verify ? { insecureSkipVerify: true } : {}),
    ...(t.min_version === undefined ? {} : { minVersion: t.min_version }),
  };
  for (const problem of checkSinkTls(tls)) {
    let configKey: string = TLS_KEYS[problem.option] ?? problem.option;
    if (configKey === 'key_password' && t.key_password_file !== undefined)
      configKey = 'key_password_file';
    const file = (
      {
        ca_file: t.ca_file,
        cert_file: t.cert_file,
        key_file: t.key_file,
        key_password_file: t.key_password_file,
      } as Record<string, string | undefined>
    )[configKey];
    const message = problem.message
      .replace('set keyPassword', 'set key_password or key_password_file')
      .replace(
        'does not belong to the certificate',
        `does not belong to the certificate in ${t.cert_file ?? ''}`,
      );
    issues.push({
      path: `${path}.${configKey}`,
      message: file === undefined ? message : `${file} ${message}`,
    });
  }
  return issues.length > before ? undefined : tls;
}

/** {@link readSinkFiles} for programmatic callers: throws `LC_ERR_CONFIG` listing every issue. */
export function unwrapSinkFiles(result: SinkFilesResult): SinkFiles {
  if (result.ok) return result.files;
  throw new LcError({
    code: 'LC_ERR_CONFIG',
    message: `sink files:\n${result.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    details: { issues: result.issues },
  });
}
