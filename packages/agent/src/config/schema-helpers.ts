import { z } from 'zod';
import { describeValue } from '../internal/describe-value.js';
import { humanSize, parseSizeBytes } from '@lc/core';

// The helpers the agent shares with step options are @lc/processing's, so
// config sections and step options read and fail alike.
export {
  duration,
  durationValue,
  regex,
  section,
  stringMap,
} from '@lc/processing';

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
