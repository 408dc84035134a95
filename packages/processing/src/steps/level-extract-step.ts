import { z } from 'zod';
import { defineStep } from '../define-step.js';
import { regex } from '../step-options.js';
import { fieldText } from '../internal/working-record.js';

const DEFAULT_LEVEL =
  /\b(trace|debug|info|notice|warn|warning|error|err|fatal|critical|crit|panic)\b/i;
const LEVEL_ALIASES: Readonly<Record<string, string>> = {
  warning: 'warn',
  err: 'error',
  crit: 'fatal',
  critical: 'fatal',
  panic: 'fatal',
  notice: 'info',
};

/** Normalise a level word: lower case, `warning`→`warn`, `err`→`error`… */
function normaliseLevel(text: string): string {
  const lower = text.toLowerCase();
  return LEVEL_ALIASES[lower] ?? lower;
}

/**
 * `level_extract`: set the level label from a parsed field, else from a
 * regex over the line, normalised (`WARNING` → `warn`, `crit` → `fatal`).
 */
export const levelExtractStep = defineStep({
  type: 'level_extract',
  options: {
    field: z.string().default('level').describe('Parsed field to read first.'),
    pattern: regex(
      'Fallback regular expression over the line (first group).',
    ).optional(),
    label: z.string().default('level').describe('Label to set.'),
  },
  create: (options) => {
    const re =
      options.pattern === undefined
        ? DEFAULT_LEVEL
        : new RegExp(options.pattern);
    const { field, label } = options;
    return (ctx) => {
      let level = fieldText(ctx.fields?.[field]);
      if (level === undefined) level = re.exec(ctx.line)?.[1];
      if (level !== undefined)
        ctx.setLabels({ [label]: normaliseLevel(level) });
      return true;
    };
  },
});
