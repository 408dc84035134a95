import type { MultilineOptions, MultilinePreset } from '@lc/monitors';
import { MULTILINE_PRESETS } from '@lc/monitors';
import { z } from 'zod';
import {
  duration,
  flag,
  positiveInt,
  regex,
  section,
  size,
} from './schema-helpers.js';

const PATTERN_KEYS = [
  'preset',
  'start_pattern',
  'continue_pattern',
  'end_pattern',
] as const;

/**
 * `multiline` of a file group, the Kubernetes or the Docker source: how lines are
 * joined into one record (stack traces, pretty-printed JSON). Exactly one
 * of `preset`, `start_pattern`, `continue_pattern`, `end_pattern`.
 */
export const multilineSchema = section({
  preset: z
    .enum(MULTILINE_PRESETS as [MultilinePreset, ...MultilinePreset[]])
    .optional()
    .describe(
      'Join lines: a built-in rule. java: a log line with its exception, `at` frames, `Caused by:` and `... N more`; python: a log line with the traceback after it (chained ones too) up to the exception line; go: a `panic:`/`fatal error:` with its goroutine dumps (or a log line followed by a `goroutine N [...]:` dump); json: a JSON object spanning lines, from a line starting with `{` until its braces balance.',
    ),
  start_pattern: regex(
    'Join lines: a line matching this regular expression starts a record; every other line is appended to the current one (Vector halt_before).',
  ).optional(),
  continue_pattern: regex(
    'Join lines: a line matching this regular expression is appended to the current record; every other line starts a new one (Vector continue_through, Filebeat negate: false + match: after).',
  ).optional(),
  end_pattern: regex(
    'Join lines: a line matching this regular expression is appended and ends the record; every other line is appended (Vector halt_with; with negate, `\\\\$` joins backslash-continued lines like continue_past).',
  ).optional(),
  negate: flag(
    false,
    'A line "matches" when the pattern does NOT match it (with start_pattern: non-matching lines start records; continue_pattern: non-matching lines continue; end_pattern: non-matching lines end). Not with a preset.',
  ),
  max_lines: positiveInt(
    500,
    'A record is emitted once it has this many lines; the following lines form the next record (counted in lc_multiline_flushes_total{reason="max_lines"}), nothing is dropped.',
  ),
  max_bytes: size(
    1024 * 1024,
    'A record is emitted before it grows past this many UTF-8 bytes; the following lines form the next record (lc_multiline_flushes_total{reason="max_bytes"}), nothing is dropped. A single longer line is a record of its own.',
  ),
  flush_timeout: duration(
    1000,
    'A pending record is emitted after this long without a next line (never while the source has unread data: a slow reader does not cut records; lc_multiline_flushes_total{reason="timeout"}).',
  ),
})
  .check((ctx) => {
    const given = PATTERN_KEYS.filter((k) => ctx.value[k] !== undefined);
    if (given.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `expected exactly one of ${PATTERN_KEYS.join(', ')}, got ${given.length === 0 ? 'none' : given.join(' and ')}`,
      });
    }
    if (ctx.value.preset !== undefined && ctx.value.negate) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['negate'],
        message: 'negate applies to a pattern, not to a preset',
      });
    }
  })
  .optional()
  .describe(
    'Join lines into multiline records. The record keeps the position of its last line: a restart in the middle of a record reads it again whole.',
  );

/** The validated `multiline` section. */
export type MultilineConfig = NonNullable<z.output<typeof multilineSchema>>;

/** The monitors' options of a validated `multiline` section. */
export function toMultilineOptions(
  m: MultilineConfig | undefined,
): MultilineOptions | undefined {
  if (m === undefined) return undefined;
  return {
    ...(m.preset === undefined ? {} : { preset: m.preset }),
    ...(m.start_pattern === undefined ? {} : { startPattern: m.start_pattern }),
    ...(m.continue_pattern === undefined
      ? {}
      : { continuePattern: m.continue_pattern }),
    ...(m.end_pattern === undefined ? {} : { endPattern: m.end_pattern }),
    ...(m.preset === undefined ? { negate: m.negate } : {}),
    maxLines: m.max_lines,
    maxBytes: m.max_bytes,
    flushTimeoutMs: m.flush_timeout,
  };
}
