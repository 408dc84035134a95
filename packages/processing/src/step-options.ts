import {
  describeValue,
  didYouMean,
  humanDuration,
  parseDurationMs,
} from '@lc/core';
import { z } from 'zod';

// The zod building blocks of step options, public so a custom step's
// options read and fail like the built-in ones. The agent builds its whole
// config schema from them too (same messages, same JSON Schema), so options
// read and fail the same whether they come from YAML or from code.

/**
 * A strict options object: unknown keys are rejected with a "did you mean"
 * hint naming the closest known key (`defineStep` builds its schema with it).
 */
export function section<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => {
          const hint = didYouMean(key, known);
          return hint === undefined
            ? `unknown key "${key}" (known: ${known.join(', ')})`
            : `unknown key "${key}", did you mean "${hint}"?`;
        })
        .join('; ');
    },
  });
}

/**
 * A duration in ms, written as a number (ms) or a human string ("5s"),
 * `defaultMs` when absent; the description ends with the default.
 */
export function duration(defaultMs: number, description: string) {
  return durationValue()
    .default(defaultMs)
    .describe(`${description} @default ${humanDuration(defaultMs)}`);
}

/** A duration in ms (a number, or a human string like "5s"), without a default. */
export function durationValue() {
  return z
    .union([z.number(), z.string()], {
      error: (issue) =>
        `expected a duration like "5s", got ${describeValue(issue.input)}`,
    })
    .transform((value, ctx) => {
      try {
        return parseDurationMs(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/** A JS regular expression source that must compile. */
export function regex(description: string) {
  return z
    .string()
    .refine(
      (value) => {
        try {
          new RegExp(value);
          return true;
        } catch {
          return false;
        }
      },
      {
        error: (issue) =>
          `expected a valid regular expression, got ${describeValue(issue.input)}`,
      },
    )
    .describe(description);
}

/** A string→string map (labels, headers), empty by default. */
export function stringMap(description: string) {
  return z.record(z.string(), z.string()).default({}).describe(description);
}

/** A list of names, empty by default. */
export function nameList(description: string) {
  return z.array(z.string()).default([]).describe(description);
}
