import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Lowest TLS version a sink accepts. */
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/**
 * TLS settings of a network sink (Loki, HTTP, Kafka). Certificates and keys
 * are PEM contents, not paths, like node's `tls.connect`: a library never
 * reads configuration files (the agent reads `ca_file` etc. and passes the
 * contents, again on every reload).
 */
export interface SinkTlsOptions {
  /**
   * PEM CA certificate(s) that verify the server. Replaces the system trust
   * store (like curl's `--cacert`): include the public roots too if the
   * server may present a publicly signed certificate. @default the system roots
   */
  ca?: string | Buffer;
  /** PEM client certificate (then its chain) for mutual TLS. Needs `key`. */
  cert?: string | Buffer;
  /** PEM private key of `cert` (PKCS#8, PKCS#1 or SEC1; may be encrypted). */
  key?: string | Buffer;
  /** Password of an encrypted `key`. */
  keyPassword?: string;
  /**
   * Name sent as SNI and checked against the server's certificate instead
   * of the URL's/broker's host (e.g. when connecting by IP). @default the host
   */
  serverName?: string;
  /**
   * Accept any server certificate (expired, self-signed, other name).
   * Testing only: anyone on the path can read the logs. The sink logs a
   * warning when built with it. @default false
   */
  insecureSkipVerify?: boolean;
  /** Refuse servers that cannot speak at least this version. @default 'TLSv1.2' */
  minVersion?: TlsMinVersion;
}

/** One invalid TLS option, as {@link checkSinkTls} reports it. */
export interface TlsOptionProblem {
  /** The option at fault (a key of {@link SinkTlsOptions}, or an unknown key given). */
  readonly option: string;
  /** What is wrong with it, without its contents (keys are secret). */
  readonly message: string;
}

const PEM_CERT =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const MIN_VERSIONS: readonly string[] = ['TLSv1.2', 'TLSv1.3'];
const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'ca',
  'cert',
  'key',
  'keyPassword',
  'serverName',
  'insecureSkipVerify',
  'minVersion',
]);

const textOf = (value: string | Buffer): string =>
  typeof value === 'string' ? value : value.toString('utf8');

function certificates(
  option: 'ca' | 'cert',
  value: unknown,
  problems: TlsOptionProblem[],
): X509Certificate[] {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
    problems.push({
      option,
      message: `must be PEM text (a string or Buffer), got ${typeof value}`,
    });
    return [];
  }
  const blocks = textOf(value).match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    problems.push({
      option,
      message:
        'holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")',
    });
    return [];
  }
  const out: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    try {
      out.push(new X509Certificate(block));
    } catch (error) {
      problems.push({
        option,
        message: `certificate ${i + 1} of ${blocks.length} does not parse: ${(error as Error).message}`,
      });
    }
  });
  return out;
}

function privateKey(
  value: unknown,
  password: string | undefined,
  problems: TlsOptionProblem[],
): KeyObject | undefined {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
    problems.push({
      option: 'key',
      message: `must be PEM text (a string or Buffer), got ${typeof value}`,
    });
    return undefined;
  }
  const text = textOf(value);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    problems.push({
      option: 'key',
      message:
        'holds no PEM private key (expected "-----BEGIN … PRIVATE KEY-----")',
    });
    return undefined;
  }
  try {
    return createPrivateKey({
      key: text,
      format: 'pem',
      ...(password === undefined ? {} : { passphrase: password }),
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const encrypted = /ENCRYPTED/.test(text);
    if (encrypted && password === undefined) {
      problems.push({
        option: 'key',
        message: 'is encrypted: set keyPassword',
      });
    } else if (encrypted) {
      problems.push({
        option: 'keyPassword',
        message: `does not decrypt the key (${e.code ?? e.message})`,
      });
    } else {
      problems.push({
        option: 'key',
        message: `does not parse as a private key: ${e.message}`,
      });
    }
    return undefined;
  }
}

/**
 * Check TLS options as every sink factory does: PEM certificates that
 * parse, a key that parses (decrypted with `keyPassword`) and belongs to
 * `cert`, `cert` and `key` given together, known `minVersion`. Returns every
 * problem, `[]` when valid; never throws. `lc-agent validate` uses it to
 * report them against the configured files.
 */
export function checkSinkTls(tls: SinkTlsOptions): TlsOptionProblem[] {
  const problems: TlsOptionProblem[] = [];
  if (typeof tls !== 'object' || tls === null) {
    return [{ option: '', message: `must be an object, got ${String(tls)}` }];
  }
  for (const key of Object.keys(tls)) {
    if (!KNOWN_KEYS.has(key))
      problems.push({
        option: key,
        message: `is not a TLS option (known: ${[...KNOWN_KEYS].join(', ')})`,
      });
  }
  if (tls.ca !== undefined) certificates('ca', tls.ca, problems);
  const hasCert = tls.cert !== undefined;
  const hasKey = tls.key !== undefined;
  if (hasCert !== hasKey) {
    problems.push({
      option: hasCert ? 'key' : 'cert',
      message: `is required with ${hasCert ? 'cert' : 'key'} (a client certificate needs its key)`,
    });
  }
  if (tls.keyPassword !== undefined && typeof tls.keyPassword !== 'string')
    problems.push({
      option: 'keyPassword',
      message: `must be a string, got ${typeof tls.keyPassword}`,
    });
  if (tls.keyPassword !== undefined && !hasKey)
    problems.push({ option: 'keyPassword', message: 'is set without key' });
  const leaf = hasCert
    ? certificates('cert', tls.cert, problems)[0]
    : undefined;
  const key = hasKey
    ? privateKey(
        tls.key,
        typeof tls.keyPassword === 'string' ? tls.keyPassword : undefined,
        problems,
      )
    : undefined;
  if (leaf !== undefined && key !== undefined && !leaf.checkPrivateKey(key)) {
    problems.push({
      option: 'key',
      message: `does not belong to the certificate (${leaf.subject.replace(/\n/g, ', ')}): their public keys differ`,
    });
  }
  if (
    tls.serverName !== undefined &&
    (typeof tls.serverName !== 'string' || tls.serverName.trim() === '')
  ) {
    problems.push({
      option: 'serverName',
      message: `must be a non-empty host name, got ${JSON.stringify(tls.serverName)}`,
    });
  }
  if (
    tls.insecureSkipVerify !== undefined &&
    typeof tls.insecureSkipVerify !== 'boolean'
  ) {
    problems.push({
      option: 'insecureSkipVerify',
      message: `must be a boolean, got ${JSON.stringify(tls.insecureSkipVerify)}`,
    });
  }
  if (tls.minVersion !== undefined && !MIN_VERSIONS.includes(tls.minVersion)) {
    problems.push({
      option: 'minVersion',
      message: `must be 'TLSv1.2' or 'TLSv1.3', got ${JSON.stringify(tls.minVersion)}`,
    });
  }
  return problems;
}
