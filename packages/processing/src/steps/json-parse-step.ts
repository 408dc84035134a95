import { z } from 'zod';
import { defineStep } from '../define-step.js';
import { nameList } from '../step-options.js';
import { fieldText, promoteFields } from '../internal/working-record.js';

/**
 * `json_parse`: parse the line as a JSON object into fields. Lines that
 * are not a JSON object pass through unchanged (plain text in a JSON
 * stream is common, and dropping it would lose data).
 */
export const jsonParseStep = defineStep({
  type: 'json_parse',
  options: {
    labels: nameList('Top-level fields promoted to labels.'),
    metadata: nameList('Top-level fields promoted to structured metadata.'),
    message_field: z
      .string()
      .optional()
      .describe('Replace the line with this field (e.g. "msg").'),
  },
  create: ({ labels, metadata, message_field: messageField }) => {
    return (ctx) => {
      const line = ctx.line;
      let i = 0;
      while (
        i < line.length &&
        (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)
      )
        i++;
      if (line.charCodeAt(i) !== 123 /* { */) return true;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return true;
      }
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        Array.isArray(parsed)
      )
        return true;
      const fields = parsed as Record<string, unknown>;
      ctx.addFields(fields);
      promoteFields(ctx, fields, labels, metadata);
      if (messageField !== undefined) {
        const message = fieldText(fields[messageField]);
        if (message !== undefined) ctx.setLine(message);
      }
      return true;
    };
  },
});
