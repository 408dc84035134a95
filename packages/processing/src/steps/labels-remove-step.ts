import { z } from 'zod';
import { defineStep } from '../define-step.js';

/** `labels_remove`: delete labels. */
export const labelsRemoveStep = defineStep({
  type: 'labels_remove',
  options: {
    labels: z.array(z.string()).min(1).describe('Label names to remove.'),
  },
  create: ({ labels }) => {
    const patch = Object.freeze(
      Object.fromEntries(labels.map((n) => [n, undefined])),
    );
    return (ctx) => {
      ctx.setLabels(patch);
      return true;
    };
  },
});
