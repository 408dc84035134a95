import { z } from 'zod';
import { defineStep } from '../define-step.js';
import { fnv1a } from '../internal/fnv1a.js';

/**
 * `sample`: keep `rate` of the records, decided by a hash of the line, so
 * a line re-read after a restart gets the same decision. Records left out
 * are counted as `dropped`.
 */
export const sampleStep = defineStep({
  type: 'sample',
  options: {
    rate: z
      .number()
      .min(0)
      .max(1)
      .describe(
        'Fraction kept, 0..1. Deterministic per line, so re-reads after a restart sample identically.',
      ),
  },
  create: ({ rate }) => {
    if (rate >= 1) return () => true;
    const threshold = Math.floor(rate * 0x1_0000_0000);
    return (ctx) => fnv1a(ctx.line) < threshold;
  },
});
