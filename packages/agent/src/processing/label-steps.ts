import type { StepConfig } from '../config/processing-schema.js';
import type { CompiledStep, StepContext } from './context.js';
import { fieldText, patchLabels } from './context.js';

type Of<T extends StepConfig['type']> = Extract<StepConfig, { type: T }>;

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
export function normaliseLevel(text: string): string {
  const lower = text.toLowerCase();
  return LEVEL_ALIASES[lower] ?? lower;
}

/** level_extract: from a parsed field, else a regex over the line. */
export function compileLevelExtract(config: Of<'level_extract'>): CompiledStep {
  const re =
    config.pattern === undefined ? DEFAULT_LEVEL : new RegExp(config.pattern);
  const { field, label } = config;
  return (ctx) => {
    let level = fieldText(ctx.fields?.[field]);
    if (level === undefined) level = re.exec(ctx.line)?.[1];
    if (level !== undefined)
      patchLabels(ctx, { [label]: normaliseLevel(level) });
    return true;
  };
}

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

/** labels_add: set labels; `{{name}}` expands a parsed field or label. */
export function compileLabelsAdd(config: Of<'labels_add'>): CompiledStep {
  const entries = Object.entries(config.labels).map(
    ([name, value]) => [name, compileTemplate(value)] as const,
  );
  const isStatic = Object.values(config.labels).every((v) => !v.includes('{{'));
  const staticPatch = Object.freeze({ ...config.labels });
  return (ctx) => {
    if (isStatic) {
      patchLabels(ctx, staticPatch);
      return true;
    }
    const patch: Record<string, string> = {};
    for (const [name, template] of entries) patch[name] = template(ctx);
    patchLabels(ctx, patch);
    return true;
  };
}

/** labels_remove: delete labels. */
export function compileLabelsRemove(config: Of<'labels_remove'>): CompiledStep {
  const patch = Object.freeze(
    Object.fromEntries(config.labels.map((n) => [n, undefined])),
  );
  return (ctx) => {
    patchLabels(ctx, patch);
    return true;
  };
}

/** labels_rename: move values to new names. */
export function compileLabelsRename(config: Of<'labels_rename'>): CompiledStep {
  const pairs = Object.entries(config.mapping);
  return (ctx) => {
    let patch: Record<string, string | undefined> | undefined;
    for (const [from, to] of pairs) {
      const value = ctx.labels[from];
      if (value === undefined || from === to) continue;
      patch ??= {};
      patch[from] = undefined;
      patch[to] = value;
    }
    if (patch !== undefined) patchLabels(ctx, patch);
    return true;
  };
}
