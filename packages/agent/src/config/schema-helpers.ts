import { z } from 'zod';
import { didYouMean } from '../internal/did-you-mean.js';
import { describeValue } from '../internal/describe-value.js';
import {
  humanDuration,
  humanSize,
  parseDurationMs,
  parseSizeBytes,
} from '@lc/core';

/**
 * A strict config section: unknown keys are rejected with a "did you mean"
 * hint naming the closest known key.
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

/** A duration in ms, written as a number (ms) or a human string ("5s"). */
export function duration(defaultMs: number, description: string) {
  return durationValue()
    .default(defaultMs)
    .describe(`${description} @default ${humanDuration(defaultMs)}`);
}

/** Optional duration without default. */
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

/** A size in bytes, written as a number or a human string ("64MiB"). */
export function size(defaultBytes: number, description: string) {
  return sizeValue()
    .default(defaultBytes)
    .describe(`${description} @default ${humanSize(defaultBytes)}`);
}

/** Optional size without default. */
export function sizeValue() {
  return z
    .union([z.number(), z.string()], {
      error: (issue) =>
        `expected a size like "64MiB", got ${describeValue(issue.input)}`,
    })
    .transform((value, ctx) => {
      try {
        return parseSizeBytes(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.hostname !== ''
  );
}

/** An http(s) URL. */
export function httpUrl(description: string) {
  return z
    .string({
      error: (issue) => `expected a URL, got ${describeValue(issue.input)}`,
    })
    .refine(isHttpUrl, {
      error: (issue) => `expected a URL, got ${describeValue(issue.input)}`,
    })
    .describe(description);
}

/** A positive integer with a default. */
export function positiveInt(defaultValue: number, description: string) {
  return z
    .number()
    .int()
    .positive()
    .default(defaultValue)
    .describe(description);
}

/** A boolean with a default. */
export function flag(defaultValue: boolean, description: string) {
  return z.boolean().default(defaultValue).describe(description);
}

/** A string→string map (labels, headers). */
export function stringMap(description: string) {
  return z.record(z.string(), z.string()).default({}).describe(description);
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
