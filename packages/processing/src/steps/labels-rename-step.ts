import { z } from 'zod';
import { defineStep } from '../define-step.js';

/** `labels_rename`: move label values to new names. */
export const labelsRenameStep = defineStep({
  type: 'labels_rename',
  options: {
    mapping: z.record(z.string(), z.string()).describe('Old name → new name.'),
  },
  create: ({ mapping }) => {
    const pairs = Object.entries(mapping);
    return (ctx) => {
      let patch: Record<string, string | undefined> | undefined;
      for (const [from, to] of pairs) {
        const value = ctx.labels[from];
        if (value === undefined || from === to) continue;
        patch ??= {};
        patch[from] = undefined;
        patch[to] = value;
      }
      if (patch !== undefined) ctx.setLabels(patch);
      return true;
    };
  },
});
