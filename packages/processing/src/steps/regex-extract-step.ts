import { z } from 'zod';
import { defineStep } from '../define-step.js';
import { nameList, regex } from '../step-options.js';
import { promoteFields } from '../internal/working-record.js';

/** `regex_extract`: named groups become fields, promoted as configured. */
export const regexExtractStep = defineStep({
  type: 'regex_extract',
  options: {
    pattern: regex('Regular expression with named groups `(?<name>...)`.'),
    labels: z
      .array(z.string())
      .optional()
      .describe('Groups promoted to labels. @default every named group'),
    metadata: nameList('Groups promoted to structured metadata.'),
  },
  create: (options) => {
    const re = new RegExp(options.pattern);
    const groupNames = [
      ...options.pattern.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g),
    ].map((m) => m[1] as string);
    const labels = options.labels ?? groupNames;
    const { metadata } = options;
    return (ctx) => {
      const m = re.exec(ctx.line);
      if (m?.groups === undefined) return true;
      const fields: Record<string, unknown> = {};
      for (const name of groupNames) {
        const value = m.groups[name];
        if (value !== undefined) fields[name] = value;
      }
      ctx.addFields(fields);
      promoteFields(ctx, fields, labels, metadata);
      return true;
    };
  },
});
