import { LcError } from '@lc/core';
import type { LineRule } from './internal/line-rule.js';
import { patternRule } from './internal/line-rule.js';
import { presetRule } from './internal/preset-rules.js';

/**
 * Built-in multiline rules (see the monitors README for what each joins):
 * - `java`: a log line with its exception, `at` frames, `Caused by:`,
 *   `Suppressed:` and `... N more` lines;
 * - `python`: a log line with the traceback that follows it, chained
 *   tracebacks included, up to and including the exception line;
 * - `go`: a `panic:` / `fatal error:` with its goroutine dumps, or a log
 *   line followed by a `goroutine N [...]:` dump (`http: panic serving`);
 * - `json`: a JSON object spanning lines, from a line starting with `{`
 *   until its braces balance (strings and escapes are understood); every
 *   other line is a record on its own at once.
 */
export type MultilinePreset = 'java' | 'python' | 'go' | 'json';

/** Every {@link MultilinePreset}, for config schemas. */
export const MULTILINE_PRESETS: readonly MultilinePreset[] = Object.freeze([
  'java',
  'python',
  'go',
  'json',
]);

/**
 * How lines are joined into one record. Exactly one of `preset`,
 * `startPattern`, `continuePattern`, `endPattern`. With a pattern, a line
 * "matches" when the pattern finds a match in it, or, with `negate`, when
 * it does not:
 * - `startPattern`: a matching line starts a new record; every other line
 *   is appended to the current one (Vector `halt_before`).
 * - `continuePattern`: a matching line is appended to the current record;
 *   every other line starts a new one (Vector `continue_through`, Filebeat
 *   `negate: false, match: after`).
 * - `endPattern`: a matching line is appended and ends the record; every
 *   other line is appended (Vector `halt_with`; `endPattern: /\\$/` with
 *   `negate` is Vector's `continue_past` for `\`-continued lines).
 *
 * A record is emitted as soon as it is complete, when it reaches
 * `maxLines` or `maxBytes` (then the following lines form the next record:
 * nothing is dropped), or `flushTimeoutMs` after its last line when no
 * line came to complete it. Joined records carry the cursor of their last
 * line, so a position is never committed inside a record.
 */
export interface MultilineOptions {
  /** A built-in rule. */
  preset?: MultilinePreset;
  /** A line matching it starts a record (JS regex source or `RegExp`). */
  startPattern?: RegExp | string;
  /** A line matching it continues the current record. */
  continuePattern?: RegExp | string;
  /** A line matching it ends the current record. */
  endPattern?: RegExp | string;
  /** A line matches when the pattern does NOT match it. @default false */
  negate?: boolean;
  /** A record is emitted once it has this many lines. @default 500 */
  maxLines?: number;
  /**
   * A record is emitted before it would grow past this many UTF-8 bytes
   * (separators included); a single line longer than this is a record of
   * its own (lines are capped by the source's own line limit). @default 1_048_576
   */
  maxBytes?: number;
  /** A pending record is emitted after this long without a new line, ms. @default 1000 */
  flushTimeoutMs?: number;
  /** Put between the lines of a record. @default '\n' */
  separator?: string;
}

/** Multiline settings after defaults, validated once. */
export interface MultilineConfig {
  /** A fresh rule for one stream (rules keep per-stream state). */
  readonly newRule: () => LineRule;
  /** What the rule is, for logs: `preset java`, `startPattern /^\d/`. */
  readonly description: string;
  readonly maxLines: number;
  readonly maxBytes: number;
  readonly flushTimeoutMs: number;
  readonly separator: string;
}

export const DEFAULT_MULTILINE_MAX_LINES = 500;
export const DEFAULT_MULTILINE_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MULTILINE_FLUSH_TIMEOUT_MS = 1000;

const PATTERN_KEYS = ['startPattern', 'continuePattern', 'endPattern'] as const;

/**
 * Validate `options` and apply defaults. Throws `LcError`
 * `LC_ERR_INVALID_OPTION` naming `<factory>: option <name>.<key>`.
 *
 * @param name the option's name in its factory (`multiline`)
 * @param factory the factory's name, for the message (`createFileMonitor`)
 */
export function resolveMultilineOptions(
  options: MultilineOptions,
  name: string,
  factory: string,
): MultilineConfig {
  const invalid = (key: string, expected: string, given: unknown): LcError =>
    new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${factory}: option \`${key === '' ? name : `${name}.${key}`}\` must be ${expected}, got ${JSON.stringify(given) ?? String(given)}`,
      details: { option: key === '' ? name : `${name}.${key}` },
    });
  if (options === null || typeof options !== 'object')
    throw invalid('', 'an object', options);
  const given = [
    ...(options.preset === undefined ? [] : ['preset']),
    ...PATTERN_KEYS.filter((k) => options[k] !== undefined),
  ];
  if (given.length !== 1) {
    throw invalid(
      '',
      'an object with exactly one of preset, startPattern, continuePattern, endPattern',
      given,
    );
  }
  const int = (
    key: 'maxLines' | 'maxBytes' | 'flushTimeoutMs',
    fallback: number,
    min: number,
  ): number => {
    const value = options[key];
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min)
      throw invalid(key, `an integer >= ${min}`, value);
    return value;
  };
  const separator = options.separator ?? '\n';
  if (typeof separator !== 'string')
    throw invalid('separator', 'a string', separator);
  if (options.negate !== undefined && typeof options.negate !== 'boolean')
    throw invalid('negate', 'a boolean', options.negate);
  const common = {
    maxLines: int('maxLines', DEFAULT_MULTILINE_MAX_LINES, 1),
    maxBytes: int('maxBytes', DEFAULT_MULTILINE_MAX_BYTES, 1),
    flushTimeoutMs: int(
      'flushTimeoutMs',
      DEFAULT_MULTILINE_FLUSH_TIMEOUT_MS,
      0,
    ),
    separator,
  };
  if (options.preset !== undefined) {
    const preset = options.preset;
    if (!MULTILINE_PRESETS.includes(preset))
      throw invalid('preset', `one of ${MULTILINE_PRESETS.join(', ')}`, preset);
    if (options.negate === true)
      throw invalid('negate', 'unset with a preset', true);
    return {
      ...common,
      newRule: () => presetRule(preset),
      description: `preset ${preset}`,
    };
  }
  const key = PATTERN_KEYS.find(
    (k) => options[k] !== undefined,
  ) as (typeof PATTERN_KEYS)[number];
  const pattern = toRegExp(options[key] as RegExp | string, (given) =>
    invalid(key, 'a valid regular expression', given),
  );
  const mode =
    key === 'startPattern'
      ? 'start'
      : key === 'continuePattern'
        ? 'continue'
        : 'end';
  const negate = options.negate ?? false;
  return {
    ...common,
    newRule: () => patternRule(mode, pattern, negate),
    description: `${key} ${String(pattern)}${negate ? ' (negated)' : ''}`,
  };
}

function toRegExp(
  value: RegExp | string,
  fail: (given: unknown) => LcError,
): RegExp {
  // `g` and `y` make `test` stateful (lastIndex): dropped.
  if (value instanceof RegExp)
    return new RegExp(value.source, value.flags.replace(/[gy]/g, ''));
  if (typeof value !== 'string') throw fail(value);
  try {
    return new RegExp(value);
  } catch {
    throw fail(value);
  }
}
