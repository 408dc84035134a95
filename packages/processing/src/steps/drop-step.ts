import { conditionSchema } from '../condition-schema.js';
import { defineStep } from '../define-step.js';
import { compileCondition } from '../internal/condition.js';

/**
 * `drop`: drop records matching the condition (counted as `dropped` in
 * `lc_processing_records_total`). Its `when` is the condition itself, so
 * it is required.
 */
export const dropStep = defineStep({
  type: 'drop',
  options: {
    when: conditionSchema.describe('Drop records matching this condition.'),
  },
  create: ({ when }) => {
    const matches = compileCondition(when);
    return (ctx) => !matches(ctx);
  },
});
