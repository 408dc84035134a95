/**
 * Level text → OTLP `SeverityNumber`, following the OpenTelemetry logs data
 * model (Appendix B: syslog, Log4j, Zap, java.util.logging, .NET columns)
 * plus the short forms common log libraries print. Matching is
 * case-insensitive on the trimmed text. Unknown text maps to 0
 * (UNSPECIFIED); the text itself is still sent as `SeverityText`.
 *
 * The table is documented in packages/sinks/README.md (OTLP section);
 * change both together.
 */
const TABLE: Readonly<Record<string, number>> = {
  // TRACE (1)
  trace: 1,
  trc: 1,
  trac: 1,
  finest: 1,
  // DEBUG (5), DEBUG2 (6), DEBUG3 (7)
  debug: 5,
  dbg: 5,
  dbug: 5,
  verbose: 5,
  finer: 5,
  fine: 6,
  config: 7,
  // INFO (9), INFO2 (10)
  info: 9,
  inf: 9,
  information: 9,
  informational: 9,
  notice: 10,
  // WARN (13)
  warn: 13,
  wrn: 13,
  warning: 13,
  // ERROR (17), ERROR2 (18), ERROR3 (19)
  error: 17,
  err: 17,
  eror: 17,
  severe: 17,
  critical: 18,
  crit: 18,
  dpanic: 18,
  alert: 19,
  panic: 19,
  // FATAL (21)
  fatal: 21,
  ftl: 21,
  emerg: 21,
  emergency: 21,
  // One-letter klog/glog prefixes.
  t: 1,
  d: 5,
  i: 9,
  w: 13,
  e: 17,
  f: 21,
  // pino / bunyan numeric levels.
  '10': 1,
  '20': 5,
  '30': 9,
  '40': 13,
  '50': 17,
  '60': 21,
};

/** Cache of recent lookups: level texts repeat endlessly. */
const seen = new Map<string, number>();
const MAX_CACHED = 1024;

/**
 * The OTLP `SeverityNumber` (0–24) for a level text such as `INFO`,
 * `warning`, `E` or pino's `30`; 0 (UNSPECIFIED) when unknown.
 */
export function severityNumberOf(text: string): number {
  const hit = seen.get(text);
  if (hit !== undefined) return hit;
  const key = text.trim().toLowerCase();
  const value = Object.hasOwn(TABLE, key) ? (TABLE[key] as number) : 0;
  if (seen.size < MAX_CACHED) seen.set(text, value);
  return value;
}
