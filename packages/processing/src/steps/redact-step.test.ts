import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';
import { luhnValid } from '../internal/redactors.js';

describe('redactStep', () => {
  describe('create', () => {
    const p = processor([{ type: 'redact' }]);
    const cases: [string, string][] = [
      ['password=hunter2 user=bob', 'password=[REDACTED] user=bob'],
      ['{"password": "s3cr3t"}', '{"password": "[REDACTED]"}'],
      ['Authorization: Bearer abc.def-123', 'Authorization: Bearer [REDACTED]'],
      ['api_key=AbCdEf0123', 'api_key=[REDACTED]'],
      [
        'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end',
        'jwt [REDACTED] end',
      ],
      ['key AKIAIOSFODNN7EXAMPLE used', 'key [REDACTED] used'],
      ['card 4111 1111 1111 1111 ok', 'card [REDACTED] ok'],
      ['order 1234567890123 ok', 'order 1234567890123 ok'],
      ['mail bob.smith@example.co.uk now', 'mail [REDACTED] now'],
    ];
    for (const [input, expected] of cases) {
      it(`should turn ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
        expect(p.process(record(input))?.line).toBe(expected);
      });
    }

    it('should apply custom patterns and redact metadata values', () => {
      const c = processor([
        { type: 'json_parse', metadata: ['note'] },
        {
          type: 'redact',
          rules: ['emails'],
          custom: [{ pattern: 'ID-\\d+', replacement: 'ID-*' }],
        },
      ]);
      const out = c.process(record('{"note":"to a@b.io","x":"ID-42"}'));
      expect(out?.line).toBe('{"note":"to [REDACTED]","x":"ID-*"}');
      expect(out?.metadata).toEqual({ note: 'to [REDACTED]' });
    });

    test.prop([fc.emailAddress()])(
      'should redact any email address',
      (email) => {
        const out = p.process(record(`user ${email} logged in`));
        expect(out?.line).not.toContain(email);
      },
    );

    test.prop([
      fc.array(fc.integer({ min: 0, max: 9 }), {
        minLength: 12,
        maxLength: 15,
      }),
    ])('should redact every Luhn-valid card number', (digits) => {
      // Append the check digit that makes the number Luhn-valid.
      let check = 0;
      for (let d = 0; d <= 9; d++)
        if (luhnValid([...digits, d].join(''))) check = d;
      const card = [...digits, check].join('');
      fc.pre(luhnValid(card));
      expect(p.process(record(`pay ${card} now`))?.line).toBe(
        'pay [REDACTED] now',
      );
    });
  });
});
