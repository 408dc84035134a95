/** The built-in redaction rules, in the order documented. */
export const REDACT_RULES = [
  'tokens',
  'passwords',
  'jwt',
  'aws_keys',
  'cards',
  'emails',
] as const;

/** A built-in redaction rule name. */
export type RedactRule = (typeof REDACT_RULES)[number];

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

/** One detector: a cheap pre-check and the replacement. */
export interface Redactor {
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

/** The built-in detectors by rule name. */
export const REDACTORS: Readonly<Record<RedactRule, Redactor>> = {
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
// Cards last: their pattern needs a word boundary before the digits, and an
// earlier replacement can create one ("a@b.io4111…" → "[REDACTED]4111…"),
// so redacting once leaves nothing a second pass would find.
/** The order rules run in. */
export const REDACT_ORDER: readonly RedactRule[] = [
  'jwt',
  'aws_keys',
  'tokens',
  'passwords',
  'emails',
  'cards',
];
