/**
 * Short JSON-ish rendering of a configuration value for error messages:
 * `"htp:/x"`, `42`, `a list`, `a map`, `nothing` (long strings cut at 60
 * characters).
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}
