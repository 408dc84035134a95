import { z } from 'zod';
import { regex, section } from './step-options.js';

/**
 * A condition on a record, as a step's `when` or the `drop` step's
 * condition. Every given clause must hold (AND); no clause at all always
 * holds. Regular expressions are JavaScript syntax, unanchored.
 */
export const conditionSchema = section({
  line_matches: regex('The line matches this regular expression.').optional(),
  line_not_matches: regex(
    'The line does not match this regular expression.',
  ).optional(),
  labels: z
    .record(z.string(), regex('Regular expression for the label value.'))
    .optional()
    .describe('Label name → regular expression its value must match.'),
  fields: z
    .record(z.string(), regex('Regular expression for the field value.'))
    .optional()
    .describe('Parsed field → regular expression its value must match.'),
  level: z
    .array(z.string())
    .optional()
    .describe('The `level` label is one of these.'),
}).describe('All clauses must hold.');

/** A validated condition (see {@link conditionSchema}). */
export type ConditionConfig = z.output<typeof conditionSchema>;
