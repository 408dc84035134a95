import { setOwnKey } from '@lc/core';
import { z } from 'zod';
import { defineStep } from '../define-step.js';
import type { Redactor } from '../internal/redactors.js';
import {
  REDACT_ORDER,
  REDACT_RULES,
  REDACTORS,
} from '../internal/redactors.js';
import { regex, section } from '../step-options.js';

/** Bound on re-passes, for custom patterns whose replacement matches again. */
const MAX_PASSES = 4;

/**
 * `redact`: replace secrets and personal data in the line and in metadata
 * values with the replacement text. Built-in rules: `tokens` (bearer and
 * `token=`/`api_key=`… values), `passwords`, `jwt`, `aws_keys`, `cards`
 * (Luhn-checked), `emails`; plus custom patterns. Patterns are compiled
 * once and guarded by a cheap substring test, so clean lines cost little;
 * a line that changed is passed again until nothing more matches, so no
 * match is left behind.
 */
export const redactStep = defineStep({
  type: 'redact',
  options: {
    rules: z
      .array(z.enum(REDACT_RULES))
      .default([...REDACT_RULES])
      .describe('Built-in detectors to apply.'),
    custom: z
      .array(
        section({
          pattern: regex('Regular expression to redact.'),
          replacement: z.string().optional(),
        }),
      )
      .default([])
      .describe('Extra patterns.'),
    replacement: z.string().default('[REDACTED]').describe('Replacement text.'),
  },
  create: (options) => {
    const enabled = new Set(options.rules);
    const redactors: Redactor[] = REDACT_ORDER.filter((r) =>
      enabled.has(r),
    ).map((r) => REDACTORS[r]);
    for (const custom of options.custom) {
      const re = new RegExp(custom.pattern, 'g');
      const replacement = custom.replacement;
      redactors.push({
        hint: () => true,
        apply: (l, r) => l.replace(re, replacement ?? r),
      });
    }
    const replacement = options.replacement;
    const pass = (text: string): string => {
      let out = text;
      for (const r of redactors)
        if (r.hint(out)) out = r.apply(out, replacement);
      return out;
    };
    // One rule's replacement can expose another's match (a value cut short
    // by "&" becomes parseable once an email after it is replaced), so a
    // changed text is passed again until nothing more is found.
    const redact = (text: string): string => {
      let out = pass(text);
      if (out === text) return out;
      for (let i = 1; i < MAX_PASSES; i++) {
        const next = pass(out);
        if (next === out) break;
        out = next;
      }
      return out;
    };
    return (ctx) => {
      ctx.setLine(redact(ctx.line));
      const metadata = ctx.metadata;
      if (metadata !== undefined) {
        let patch: Record<string, string> | undefined;
        for (const [k, v] of Object.entries(metadata)) {
          const red = redact(v);
          if (red !== v) setOwnKey((patch ??= {}), k, red);
        }
        if (patch !== undefined) ctx.setMetadata(patch);
      }
      return true;
    };
  },
});

export { REDACT_RULES };
