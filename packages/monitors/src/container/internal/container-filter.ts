import type { ContainerFilters } from '../container-monitor-options.js';

/** What a filter looks at. */
export interface ContainerFacts {
  /** Name without the leading `/`. */
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Compile a `*` / `?` glob to an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function labelMatcher(
  spec: string,
): (labels: ContainerFacts['labels']) => boolean {
  const eq = spec.indexOf('=');
  if (eq === -1) return (labels) => Object.hasOwn(labels, spec);
  const key = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  return (labels) => labels[key] === value;
}

/**
 * Build the predicate for {@link ContainerFilters}: every include list
 * given must match, and no exclude entry may.
 */
export function compileContainerFilter(
  filters: ContainerFilters = {},
): (facts: ContainerFacts) => boolean {
  const globs = (list?: readonly string[]): RegExp[] | undefined =>
    list === undefined || list.length === 0
      ? undefined
      : list.map(globToRegExp);
  const labels = (list?: readonly string[]) =>
    list === undefined || list.length === 0
      ? undefined
      : list.map(labelMatcher);
  const inNames = globs(filters.includeNames);
  const exNames = globs(filters.excludeNames);
  const inImages = globs(filters.includeImages);
  const exImages = globs(filters.excludeImages);
  const inLabels = labels(filters.includeLabels);
  const exLabels = labels(filters.excludeLabels);
  return (facts) => {
    if (inNames && !inNames.some((r) => r.test(facts.name))) return false;
    if (exNames?.some((r) => r.test(facts.name))) return false;
    if (inImages && !inImages.some((r) => r.test(facts.image))) return false;
    if (exImages?.some((r) => r.test(facts.image))) return false;
    if (inLabels && !inLabels.every((m) => m(facts.labels))) return false;
    if (exLabels?.some((m) => m(facts.labels))) return false;
    return true;
  };
}

/** A container label key as a Loki label name (`[a-zA-Z_][a-zA-Z0-9_]*`). */
export function sanitizeLabelName(key: string): string {
  const clean = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}
