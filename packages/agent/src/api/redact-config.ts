const SECRET_KEY =
  /pass(word)?|token|secret|authorization|api[_-]?key|encryption_key/i;

/** A deep copy of `value` with secrets replaced by "[REDACTED]". */
export function redactConfig(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (key !== '' && SECRET_KEY.test(key)) return '[REDACTED]';
    // Credentials embedded in URLs.
    return value.replace(
      /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i,
      '$1[REDACTED]@',
    );
  }
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Header values often carry credentials; names stay visible.
      out[k] =
        key === 'headers' && typeof v === 'string'
          ? '[REDACTED]'
          : redactConfig(v, k);
    }
    return out;
  }
  return value;
}
