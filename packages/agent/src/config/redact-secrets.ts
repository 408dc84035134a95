/** What every redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are secrets wherever they appear: `api.token`,
 * `sinks.*.password`, `bearer_token`, `key_password`, and any key naming a
 * password, passphrase, token, secret, credential, API or private key or a
 * cookie (in `sinks.custom[].options` too).
 */
const SECRET_KEY =
  /passw(or)?d|passphrase|^pass$|pwd|token|secret|authori[sz]ation|credential|api[_-]?key|private[_-]?key|encryption[_-]?key|cookie/i;

/** Keys whose every value is treated as a secret (header values carry credentials). */
const SECRET_MAPS = new Set(['headers']);

/** `scheme://user:password@host`: the part before `@`. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i;

/** Query parameters whose values are secrets (`?api_key=…`). */
const SECRET_PARAM =
  /pass|pwd|token|secret|auth|credential|signature|sig$|key|code/i;

/** Environment variables whose values are secrets wherever they were substituted. */
const SECRET_ENV =
  /pass|pwd|token|secret|auth|credential|api[_-]?key|private[_-]?key|encryption[_-]?key|sasl|cookie/i;

/** Shorter environment values are not looked for (they would match by chance). */
const MIN_ENV_SECRET_CHARS = 6;

/**
 * Whether the value under `key` is a secret (by the key's name). A
 * `*_file` key (`password_file`) holds a path, not the secret: the agent
 * reads the file and scrubs its content (see `SinkFiles.secretValues`).
 */
export function isSecretKey(key: PropertyKey): boolean {
  return (
    typeof key === 'string' && !key.endsWith('_file') && SECRET_KEY.test(key)
  );
}

/**
 * Whether the config value at `path` (`['sinks', 'loki', 0, 'password']`)
 * is a secret: its key names one, or it is a header value.
 */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  return (
    (last !== undefined && isSecretKey(last)) ||
    (typeof parent === 'string' && SECRET_MAPS.has(parent))
  );
}

/** Options for {@link redactSecrets}. */
export interface RedactOptions {
  /**
   * The environment the config was substituted from: the value of every
   * variable whose name looks secret (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`,
   * `*KEY*`, …) is redacted wherever it landed (`${VAR}` in a URL, a
   * label, a header). @default none
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Credentials in a URL: user info and secret-looking query parameters. */
function redactUrl(value: string): string {
  let out = value.replace(URL_USERINFO, `$1${REDACTED}@`);
  const q = out.indexOf('?');
  if (q >= 0 && /^[a-z][a-z0-9+.-]*:\/\//i.test(out)) {
    const [query, hash = ''] = out.slice(q + 1).split('#', 2) as [
      string,
      string?,
    ];
    const params = query
      .split('&')
      .map((p) => {
        const eq = p.indexOf('=');
        if (eq < 0) return p;
        const name = safeDecode(p.slice(0, eq));
        return SECRET_PARAM.test(name) ? `${p.slice(0, eq)}=${REDACTED}` : p;
      })
      .join('&');
    out = `${out.slice(0, q)}?${params}${hash === '' ? '' : `#${hash}`}`;
  }
  return out;
}

/** Secret values of `env`, longest first (a value containing another goes first). */
function envSecrets(env: RedactOptions['env']): string[] {
  if (env === undefined) return [];
  return Object.entries(env)
    .filter(
      (e): e is [string, string] =>
        SECRET_ENV.test(e[0]) &&
        typeof e[1] === 'string' &&
        e[1].length >= MIN_ENV_SECRET_CHARS,
    )
    .map(([, v]) => v)
    .sort((a, b) => b.length - a.length);
}

/**
 * A deep copy of a config (raw or validated) or a log entry with every
 * secret replaced by `[REDACTED]`: string and number values under secret
 * keys (any depth) and every header value, credentials in URLs (user info,
 * secret-looking query parameters: `redis://:pw@host` →
 * `redis://[REDACTED]@host`), and the values of secret-looking environment
 * variables wherever they were substituted (see {@link RedactOptions.env}).
 * Booleans and structure stay; errors and other class instances are left
 * to their serializers.
 */
export function redactSecrets(
  value: unknown,
  options: RedactOptions = {},
): unknown {
  return redact(value, [], envSecrets(options.env));
}

function redact(
  value: unknown,
  path: PropertyKey[],
  secrets: readonly string[],
): unknown {
  if (typeof value === 'string' || typeof value === 'number') {
    if (isSecretPath(path)) return REDACTED;
    if (typeof value === 'number') return value;
    let out = redactUrl(value);
    for (const s of secrets)
      if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }
  if (Array.isArray(value))
    return value.map((v, i) => redact(v, [...path, i], secrets));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = redact(v, [...path, k], secrets);
    return out;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Every secret string in a config (raw or validated), in every form it may
 * be printed in: values under secret keys and header values, URL
 * passwords (as written and decoded), and `user:password` in base64 (a
 * Basic `Authorization` header). For {@link createSecretScrubber}.
 */
export function collectSecrets(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown, path: PropertyKey[]): void => {
    if (typeof v === 'string' || typeof v === 'number') {
      const text = String(v);
      if (isSecretPath(path)) found.add(text);
      if (typeof v === 'string')
        for (const q of urlQuerySecrets(v)) found.add(q);
      const m = typeof v === 'string' ? URL_USERINFO.exec(v) : null;
      if (m !== null) {
        const info = m[2] as string;
        found.add(info);
        const colon = info.indexOf(':');
        if (colon !== -1) {
          const password = info.slice(colon + 1);
          found.add(password);
          found.add(safeDecode(password));
        }
      }
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o.username === 'string' && typeof o.password === 'string')
        found.add(
          Buffer.from(`${o.username}:${o.password}`).toString('base64'),
        );
      for (const [k, x] of Object.entries(o)) walk(x, [...path, k]);
    }
  };
  walk(value, []);
  found.delete('');
  return [...found];
}

/** Values of secret-looking query parameters of a URL (`?token=…`), raw and decoded. */
function urlQuerySecrets(value: string): string[] {
  const q = value.indexOf('?');
  if (q < 0 || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [];
  const out: string[] = [];
  for (const p of (value.slice(q + 1).split('#', 1)[0] ?? '').split('&')) {
    const eq = p.indexOf('=');
    if (eq < 0 || !SECRET_PARAM.test(safeDecode(p.slice(0, eq)))) continue;
    const raw = p.slice(eq + 1);
    out.push(raw, safeDecode(raw));
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
