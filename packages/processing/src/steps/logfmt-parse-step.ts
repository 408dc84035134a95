import { defineStep } from '../define-step.js';
import { parseLogfmt } from '../internal/logfmt.js';
import { nameList } from '../step-options.js';
import { promoteFields } from '../internal/working-record.js';

/** `logfmt_parse`: `key=value` pairs become fields, promoted as configured. */
export const logfmtParseStep = defineStep({
  type: 'logfmt_parse',
  options: {
    labels: nameList('Keys promoted to labels.'),
    metadata: nameList('Keys promoted to structured metadata.'),
  },
  create: ({ labels, metadata }) => {
    return (ctx) => {
      if (!ctx.line.includes('=')) return true;
      const fields = parseLogfmt(ctx.line);
      ctx.addFields(fields);
      promoteFields(ctx, fields, labels, metadata);
      return true;
    };
  },
});
