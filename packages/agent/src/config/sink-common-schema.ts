import { z } from 'zod';

/** A sink name: letters, digits, `-` and `_`. */
export const sinkName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'expected letters, digits, "-" or "_"');

/** Keys every sink has. */
export const sinkCommon = {
  name: sinkName
    .optional()
    .describe(
      'Unique sink name (metrics label, routes, DLQ). @default "<type>" or "<type>-<n>"',
    ),
  match: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Route: only records whose labels match these globs go to this sink. @default every record',
    ),
};
