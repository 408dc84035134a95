/**
 * A label set. Label objects are immutable and shared: one frozen object is
 * reused by every record of a source and by every fan-out copy of a record.
 * To change labels, build a new object with {@link withLabels} (copy on
 * write); never mutate one in place.
 */
export type Labels = Readonly<Record<string, string>>;

/** The empty label set, shared. */
export const EMPTY_LABELS: Labels = Object.freeze({});

/**
 * `target[key] = value` for keys that are data (label names, metadata and
 * parsed field names from log lines): `__proto__` becomes an own key
 * instead of reaching the prototype setter (where it would be lost).
 */
export function setOwnKey(
  target: Record<string, string>,
  key: string,
  value: string,
): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else target[key] = value;
}

/** Freeze a label object so it can be shared safely. */
export function freezeLabels(labels: Record<string, string>): Labels {
  return Object.freeze(labels);
}

/**
 * Copy on write: returns `base` itself when `patch` changes nothing,
 * otherwise a new frozen object. A `patch` value of `undefined` removes
 * the label.
 */
export function withLabels(
  base: Labels,
  patch: Readonly<Record<string, string | undefined>>,
): Labels {
  let next: Record<string, string> | undefined;
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (Object.hasOwn(base, key) ? base[key] === value : value === undefined)
      continue;
    if (value === undefined && !Object.hasOwn(base, key)) continue;
    next ??= { ...base };
    if (value === undefined) delete next[key];
    else setOwnKey(next, key, value);
  }
  return next === undefined ? base : Object.freeze(next);
}

/**
 * A canonical string for a label set (keys sorted), usable as a map key for
 * grouping records into streams. Formatted like a Prometheus/Loki selector:
 * `{a="1", b="2"}`.
 */
export function labelsKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ', ';
    out += `${key}=${JSON.stringify(labels[key])}`;
  }
  return `${out}}`;
}
