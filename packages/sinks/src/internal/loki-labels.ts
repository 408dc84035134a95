import type { Labels } from '@lc/core';

/** What the Loki sink does with labels it may not index. */
export type ExcessLabelAction = 'metadata' | 'drop';

/** Label rules resolved from the Loki sink's options. */
export interface LokiLabelPolicy {
  readonly staticLabels: Readonly<Record<string, string>>;
  readonly allowList: ReadonlySet<string> | undefined;
  readonly tenantLabel: string | undefined;
  readonly fallbackLabels: Readonly<Record<string, string>>;
}

/** Labels of one record, prepared for Loki. Cached per label object. */
export interface PreparedLabels {
  /** Sanitised indexed labels, sorted by name. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** Loki selector `{a="1", b="2"}` of `pairs`. */
  readonly key: string;
  /** Tenant from the tenant label, if configured and present. */
  readonly tenant: string | undefined;
  /** Labels left out by the allow-list, sanitised. */
  readonly excess: ReadonlyArray<readonly [string, string]>;
}

/**
 * Make a label name valid for Loki (`[a-zA-Z_][a-zA-Z0-9_]*`): every other
 * character becomes `_`, a leading digit gets a `_` prefix.
 */
export function sanitizeLabelName(name: string): string {
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/** Loki's selector form; Go's %q and JSON agree for valid UTF-8. */
export function selectorOf(
  pairs: ReadonlyArray<readonly [string, string]>,
): string {
  let out = '{';
  for (let i = 0; i < pairs.length; i++) {
    const [k, v] = pairs[i] as readonly [string, string];
    if (i > 0) out += ', ';
    out += `${k}=${JSON.stringify(v)}`;
  }
  return `${out}}`;
}

/** Turns record labels into Loki stream labels, with a per-object cache. */
export function createLabelPreparer(
  policy: LokiLabelPolicy,
): (labels: Labels) => PreparedLabels {
  const cache = new WeakMap<Labels, PreparedLabels>();
  return (labels) => {
    const hit = cache.get(labels);
    if (hit !== undefined) return hit;
    const merged = new Map<string, string>();
    for (const [k, v] of Object.entries(policy.staticLabels))
      merged.set(sanitizeLabelName(k), v);
    let tenant: string | undefined;
    for (const [k, v] of Object.entries(labels)) {
      if (k === policy.tenantLabel) {
        tenant = v;
        continue;
      }
      // Prometheus semantics: an empty value means "no label".
      if (v === '') continue;
      merged.set(sanitizeLabelName(k), v);
    }
    const pairs: Array<[string, string]> = [];
    const excess: Array<[string, string]> = [];
    for (const [k, v] of merged) {
      if (
        policy.allowList !== undefined &&
        !policy.allowList.has(k) &&
        !(k in policy.staticLabels)
      ) {
        excess.push([k, v]);
      } else {
        pairs.push([k, v]);
      }
    }
    if (pairs.length === 0) {
      for (const [k, v] of Object.entries(policy.fallbackLabels))
        pairs.push([sanitizeLabelName(k), v]);
    }
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const prepared: PreparedLabels = {
      pairs,
      key: selectorOf(pairs),
      tenant,
      excess,
    };
    cache.set(labels, prepared);
    return prepared;
  };
}
