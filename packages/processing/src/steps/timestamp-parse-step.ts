import { describeValue } from '@lc/core';
import { z } from 'zod';
import { defineStep } from '../define-step.js';
import { duration, regex } from '../step-options.js';
import type { TimestampParser } from '../internal/timestamp-formats.js';
import {
  compileTimestampFormat,
  compileZone,
} from '../internal/timestamp-formats.js';
import { fieldText } from '../internal/working-record.js';

function compiles(compile: () => unknown): string | undefined {
  try {
    compile();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * `timestamp_parse`: set the record's event time from a parsed field or a
 * regex over the line. Unparseable values keep the read time (counted as
 * `timestamp_unparsed`). Times outside `[now - max_past, now + max_future]`
 * are clamped to the limit, rejected (the record is dropped) or kept with
 * a `timestamp_warning` label (counted as `timestamp_<action>`).
 */
export const timestampParseStep = defineStep({
  type: 'timestamp_parse',
  options: {
    field: z
      .string()
      .default('time')
      .describe('Parsed field holding the timestamp (from a parse step).'),
    pattern: regex(
      'Alternatively, a regular expression over the line whose first group is the timestamp.',
    ).optional(),
    formats: z
      .array(
        z.string().superRefine((format, ctx) => {
          const problem = compiles(() =>
            compileTimestampFormat(format, () => 0, Date.now),
          );
          if (problem !== undefined)
            ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .default(['auto'])
      .describe(
        'Tried in order: auto, rfc3339, unix_s, unix_ms, unix_ns, common_log, syslog, or a pattern with YYYY MM DD HH mm ss SSS.',
      ),
    timezone: z
      .string()
      .refine((zone) => compiles(() => compileZone(zone)) === undefined, {
        error: (issue) =>
          `expected UTC, ±HH:MM or an IANA time zone name, got ${describeValue(issue.input)}`,
      })
      .default('UTC')
      .describe(
        'Zone for timestamps without one: UTC, ±HH:MM or an IANA name.',
      ),
    max_past: duration(7 * 86_400_000, 'Oldest acceptable event time (age).'),
    max_future: duration(300_000, 'Furthest acceptable event time ahead.'),
    on_invalid: z
      .enum(['clamp', 'reject', 'warn'])
      .default('clamp')
      .describe(
        'Out of range: clamp to the limit, reject (drop) the record, or keep it and add label `timestamp_warning`.',
      ),
  },
  create: (options, env) => {
    const zone = compileZone(options.timezone);
    const parsers: TimestampParser[] = options.formats.map((f) =>
      compileTimestampFormat(f, zone, () => env.now()),
    );
    const pattern =
      options.pattern === undefined ? undefined : new RegExp(options.pattern);
    const {
      field,
      max_past: maxPastMs,
      max_future: maxFutureMs,
      on_invalid: onInvalid,
    } = options;
    const outOfRange = `timestamp_${onInvalid}`;
    return (ctx) => {
      const text =
        pattern === undefined
          ? fieldText(ctx.fields?.[field])
          : pattern.exec(ctx.line)?.[1];
      if (text === undefined) return true;
      let ts;
      for (const parse of parsers) {
        ts = parse(text);
        if (ts !== undefined) break;
      }
      if (ts === undefined || !Number.isFinite(ts.timestampMs)) {
        env.count('timestamp_unparsed');
        return true;
      }
      const now = env.now();
      const min = now - maxPastMs;
      const max = now + maxFutureMs;
      if (ts.timestampMs < min || ts.timestampMs > max) {
        env.count(outOfRange);
        if (onInvalid === 'reject') return false;
        if (onInvalid === 'clamp') {
          ts = {
            timestampMs: ts.timestampMs < min ? min : max,
            timestampNanos: 0,
          };
        } else {
          ctx.setLabels({
            timestamp_warning: ts.timestampMs < min ? 'too_old' : 'too_new',
          });
        }
      }
      ctx.setTimestamp(ts.timestampMs, ts.timestampNanos);
      return true;
    };
  },
});
