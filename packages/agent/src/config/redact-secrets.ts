/** What every redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are secrets wherever they appear: `api.token`,
 * `sinks.*.password`, `bearer_token`, and any key naming a password, token,
 * secret, credential or API key.
 */
const SECRET_KEY =
  /passw(or)?d|passphrase|^pass$|token|secret|authorization|credential|api[_-]?key|private[_-]?key|encryption[_-]?key/i;

/** Keys whose every value is treated as a secret (header values carry credentials). */
const SECRET_MAPS = new Set(['headers']);

/** `scheme://user:password@host`: the part before `@`. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i;

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

/**
 * A deep copy of a config (raw or validated) with every secret replaced by
 * `[REDACTED]`: values under secret keys, header values, and credentials in
 * URLs (`redis://:pw@host` → `redis://[REDACTED]@host`).
 */
export function redactSecrets(
  value: unknown,
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    if (isSecretPath(path)) return REDACTED;
    return value.replace(URL_USERINFO, `$1${REDACTED}@`);
  }
  if (
    path.length > 0 &&
    isSecretPath(path) &&
    value !== null &&
    value !== undefined
  )
    return REDACTED;
  if (Array.isArray(value))
    return value.map((v, i) => redactSecrets(v, [...path, i]));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = redactSecrets(v, [...path, k]);
    return out;
  }
  // Errors, buffers and the like are left to their serializers.
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

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
