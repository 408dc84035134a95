import { z } from 'zod';

/** Keys every sink has. */
export const sinkCommon = {
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'expected letters, digits, "-" or "_"')
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
