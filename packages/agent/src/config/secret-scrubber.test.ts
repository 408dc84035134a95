import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { REDACTED } from './redact-secrets.js';
import { createSecretScrubber } from './secret-scrubber.js';

describe('createSecretScrubber', () => {
  describe('scrub', () => {
    it('should replace known secrets, also JSON-escaped, and learn more', () => {
      const s = createSecretScrubber(['pa"ss\\word', 'ab']);
      const line = JSON.stringify({ msg: 'failed with pa"ss\\word' });
      expect(s.scrub(line)).toBe(
        JSON.stringify({ msg: `failed with ${REDACTED}` }),
      );
      // Too short to scrub from free text without garbling it.
      expect(s.scrub('ab cd')).toBe('ab cd');
      s.add(['later-secret']);
      expect(s.scrub('x later-secret y')).toBe(`x ${REDACTED} y`);
    });

    // Secrets of the characters tokens and passwords usually have (none
    // of "[REDACTED]"'s, so a replacement cannot form a new occurrence).
    const secret = fc.stringMatching(/^[a-z0-9_-]{3,16}$/);
    test.prop([
      fc.array(secret, { minLength: 1, maxLength: 4 }),
      fc.string(),
      fc.string(),
    ])('should leave no known secret in any text', (secrets, glue, tail) => {
      const s = createSecretScrubber(secrets);
      const out = s.scrub(`${glue}${secrets.join(glue)}${tail}`);
      for (const x of secrets) expect(out).not.toContain(x);
    });
  });
});
