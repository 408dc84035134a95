import { setOwnKey } from '@lc/core';
import type { REDACT_RULES, StepConfig } from '../config/processing-schema.js';
import type { CompiledStep } from './context.js';

type Of<T extends StepConfig['type']> = Extract<StepConfig, { type: T }>;
type Rule = (typeof REDACT_RULES)[number];

/** Luhn checksum over the digits of `text` (spaces/dashes ignored). */
export function luhnValid(text: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits >= 13 && digits <= 19 && sum % 10 === 0;
}

interface Redactor {
  /** Cheap test that must hold for the regex to possibly match. */
  readonly hint: (line: string) => boolean;
  readonly apply: (line: string, replacement: string) => string;
}

const KEY_VALUE = (keys: string) =>
  new RegExp(`((?:${keys})["']?\\s*[=:]\\s*["']?)([^\\s"'&,;]+)`, 'gi');

function keyValue(keys: string, hint: RegExp): Redactor {
  const re = KEY_VALUE(keys);
  return {
    hint: (line) => hint.test(line),
    apply: (line, r) => line.replace(re, (_m, key: string) => `${key}${r}`),
  };
}

const BUILT_IN: Readonly<Record<Rule, Redactor>> = {
  jwt: (() => {
    const re = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g;
    return {
      hint: (l) => l.includes('eyJ'),
      apply: (l, r) => l.replace(re, r),
    };
  })(),
  aws_keys: (() => {
    const id = /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g;
    const secret =
      /(aws_secret_access_key["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}/gi;
    return {
      hint: (l) => /A[KSBC][IC]A|aws_secret/i.test(l),
      apply: (l, r) =>
        l.replace(id, r).replace(secret, (_m, key: string) => `${key}${r}`),
    };
  })(),
  passwords: keyValue('password|passwd|pwd|secret', /pass|pwd|secret/i),
  tokens: (() => {
    const kv = KEY_VALUE(
      'api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth[_-]?token|token',
    );
    const bearer = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
    return {
      hint: (l) => /token|key|bearer/i.test(l),
      apply: (l, r) =>
        l
          .replace(bearer, (_m, p: string) => `${p}${r}`)
          .replace(kv, (_m, key: string) => `${key}${r}`),
    };
  })(),
  cards: (() => {
    const re = /\b\d(?:[ -]?\d){12,18}\b/g;
    return {
      hint: (l) => /\d{4}/.test(l),
      apply: (l, r) => l.replace(re, (m) => (luhnValid(m) ? r : m)),
    };
  })(),
  emails: (() => {
    const re =
      /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
    return { hint: (l) => l.includes('@'), apply: (l, r) => l.replace(re, r) };
  })(),
};

// JWTs and AWS keys first: the generic token rule would otherwise cut them.
const ORDER: readonly Rule[] = [
  'jwt',
  'aws_keys',
  'tokens',
  'passwords',
  'cards',
  'emails',
];

/**
 * redact: replace secrets and personal data in the line (and metadata
 * values) with the replacement text. Patterns are compiled once and
 * guarded by a cheap substring test, so clean lines cost little.
 */
export function compileRedact(config: Of<'redact'>): CompiledStep {
  const enabled = new Set(config.rules);
  const redactors: Redactor[] = ORDER.filter((r) => enabled.has(r)).map(
    (r) => BUILT_IN[r],
  );
  for (const custom of config.custom) {
    const re = new RegExp(custom.pattern, 'g');
    const replacement = custom.replacement;
    redactors.push({
      hint: () => true,
      apply: (l, r) => l.replace(re, replacement ?? r),
    });
  }
  const replacement = config.replacement;
  const redact = (text: string): string => {
    let out = text;
    for (const r of redactors) if (r.hint(out)) out = r.apply(out, replacement);
    return out;
  };
  return (ctx) => {
    const line = redact(ctx.line);
    if (line !== ctx.line) {
      ctx.line = line;
      ctx.changed = true;
    }
    if (ctx.metadata !== undefined) {
      let next: Record<string, string> | undefined;
      for (const [k, v] of Object.entries(ctx.metadata)) {
        const red = redact(v);
        if (red !== v) {
          next ??= { ...ctx.metadata };
          setOwnKey(next, k, red);
        }
      }
      if (next !== undefined) {
        ctx.metadata = next;
        ctx.changed = true;
      }
    }
    return true;
  };
}
