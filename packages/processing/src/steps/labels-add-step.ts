import { defineStep } from '../define-step.js';
import { stringMap } from '../step-options.js';
import { fieldText } from '../internal/working-record.js';
import type { StepContext } from '../step-context.js';

type Template = (ctx: StepContext) => string;

function compileTemplate(text: string): Template {
  if (!text.includes('{{')) return () => text;
  const parts: (string | { name: string })[] = [];
  let last = 0;
  for (const m of text.matchAll(/\{\{\s*([\w.-]+)\s*\}\}/g)) {
    parts.push(text.slice(last, m.index), { name: m[1] as string });
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return (ctx) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else
        out +=
          fieldText(ctx.fields?.[part.name]) ?? ctx.labels[part.name] ?? '';
    }
    return out;
  };
}

/**
 * `labels_add`: set labels; `{{name}}` in a value expands to a parsed
 * field or an existing label (empty when neither exists).
 */
export const labelsAddStep = defineStep({
  type: 'labels_add',
  options: {
    labels: stringMap(
      'Labels to set; `{{name}}` is replaced by a parsed field or label.',
    ),
  },
  create: ({ labels }) => {
    const isStatic = Object.values(labels).every((v) => !v.includes('{{'));
    if (isStatic) {
      const patch = Object.freeze({ ...labels });
      return (ctx) => {
        ctx.setLabels(patch);
        return true;
      };
    }
    const entries = Object.entries(labels).map(
      ([name, value]) => [name, compileTemplate(value)] as const,
    );
    return (ctx) => {
      const patch: Record<string, string> = {};
      for (const [name, template] of entries) patch[name] = template(ctx);
      ctx.setLabels(patch);
      return true;
    };
  },
});
