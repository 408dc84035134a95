/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are secrets wherever they appear: `api.token`, sink
 * `password` / `bearer_token`, `positions.redis_url`'s password (in the
 * URL), Kafka SASL settings, `encryption_key`, and the like in
 * `sinks.custom` options.
 */
const SECRET_KEY =
  /pass(word|wd|phrase)?$|^pass|pwd|token|secret|authori[sz]ation|credential|api[_-]?key|private[_-]?key|encryption[_-]?key|sasl|cookie/i;

/** Query parameters whose values are secrets (`?api_key=…`). */
const SECRET_PARAM =
  /pass|pwd|token|secret|auth|credential|signature|sig$|key|code/i;

/** Environment variables whose values are secrets wherever they were substituted. */
const SECRET_ENV =
  /pass|pwd|token|secret|auth|credential|api[_-]?key|private[_-]?key|encryption[_-]?key|sasl|cookie/i;

/** Shorter values are not looked for (they would match by chance). */
const MIN_ENV_SECRET_CHARS = 6;

/** Options for {@link redactConfig}. */
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
  let out = value.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i,
    `$1${REDACTED}@`,
  );
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
        const name = decodeURIComponent(p.slice(0, eq));
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

function redact(
  value: unknown,
  key: string,
  parent: string,
  secrets: readonly string[],
): unknown {
  if (typeof value === 'string' || typeof value === 'number') {
    // Header values often carry credentials; their names stay visible.
    if (parent === 'headers' || (key !== '' && SECRET_KEY.test(key)))
      return REDACTED;
    if (typeof value === 'number') return value;
    let out = redactUrl(value);
    for (const s of secrets)
      if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }
  if (Array.isArray(value))
    return value.map((v) => redact(v, key, parent, secrets));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = redact(v, k, key, secrets);
    return out;
  }
  return value;
}

/**
 * A deep copy of a config with every secret replaced by `[REDACTED]`:
 * values under secret-looking keys (any depth), every HTTP header value,
 * credentials in URLs (user info, secret-looking query parameters), and
 * the values of secret-looking environment variables wherever they were
 * substituted (see {@link RedactOptions.env}). Booleans and structure stay.
 */
export function redactConfig(
  value: unknown,
  options: RedactOptions = {},
): unknown {
  return redact(value, '', '', envSecrets(options.env));
}
