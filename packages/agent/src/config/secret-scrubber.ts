import { REDACTED } from './redact-secrets.js';

/**
 * Secrets shorter than this are not scrubbed out of free text (log lines,
 * messages): replacing every "ab" would garble them. Values under secret
 * keys are redacted whatever their length.
 */
const MIN_SCRUB_LENGTH = 3;

/** Replaces known secret values in free text (messages, log lines). */
export interface SecretScrubber {
  /** Learn more secrets (a reloaded config's); never forgets one. */
  add(values: Iterable<string>): void;
  /** `text` with every known secret (also JSON-escaped) replaced by `[REDACTED]`. */
  scrub(text: string): string;
  /** How many distinct strings it replaces. */
  readonly size: number;
}

/** A {@link SecretScrubber} knowing `values` (usually {@link collectSecrets} of the config). */
export function createSecretScrubber(
  values: Iterable<string> = [],
): SecretScrubber {
  let secrets: string[] = [];
  const add = (more: Iterable<string>): void => {
    const all = new Set(secrets);
    for (const s of more) {
      if (s.length < MIN_SCRUB_LENGTH) continue;
      all.add(s);
      // As it appears inside a JSON string (a log line).
      all.add(JSON.stringify(s).slice(1, -1));
    }
    // Longest first, so a secret containing another is replaced whole.
    secrets = [...all].sort((a, b) => b.length - a.length);
  };
  add(values);
  return {
    add,
    scrub(text) {
      let out = text;
      for (const s of secrets)
        if (out.includes(s)) out = out.split(s).join(REDACTED);
      return out;
    },
    get size() {
      return secrets.length;
    },
  };
}
