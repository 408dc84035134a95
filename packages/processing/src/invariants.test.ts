// Property tests for what processing promises whatever the input: it never
// reorders or mutates, drop and sample remove exactly what their rules
// say (nothing a condition keeps is lost), and redaction leaves no secret.
import { fc, test } from '@fast-check/vitest';
import type { LogRecord } from '@lc/core';
import { describe, expect } from 'vitest';
import { processor, record } from '../test/records.js';
import { createProcessor } from './create-processor.js';

/** Records of three sources, interleaved, each source's cursors rising. */
const interleaved = fc
  .array(
    fc.record({
      source: fc.constantFrom('a', 'b', 'c'),
      line: fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom(
          'DEBUG x',
          'INFO y',
          'level=debug msg=z',
          '{"level":"error","a":1}',
        ),
      ),
    }),
    { maxLength: 60 },
  )
  .map((items) => {
    const next: Record<string, number> = {};
    return items.map(({ source, line }): LogRecord => {
      const offset = (next[source] = (next[source] ?? 0) + 1);
      return {
        ...record(line),
        source: { kind: 'file', id: source },
        cursor: { offset, line: offset },
      };
    });
  });

const offsetOf = (r: LogRecord) => (r.cursor as { offset: number }).offset;

describe('createProcessor', () => {
  describe('invariants', () => {
    test.prop([fc.array(fc.string(), { maxLength: 20 })])(
      'should keep source, cursor and order for every kept record and never mutate input',
      (lines) => {
        const p = processor([
          { type: 'json_parse', labels: ['a'] },
          { type: 'logfmt_parse', labels: ['b'] },
          { type: 'level_extract' },
          { type: 'redact' },
          { type: 'labels_add', labels: { x: '{{a}}' } },
        ]);
        const input = lines.map((l, i) => ({
          ...record(l),
          cursor: { offset: i, line: i },
        }));
        const frozen = input.map((r) => JSON.stringify(r));
        const out = p.processMany(input);
        expect(out).toHaveLength(input.length);
        out.forEach((r, i) => {
          expect(r.cursor).toEqual({ offset: i, line: i });
          expect(r.source).toBe(input[i]?.source);
        });
        expect(input.map((r) => JSON.stringify(r))).toEqual(frozen);
      },
    );

    test.prop([interleaved, fc.double({ min: 0, max: 1, noNaN: true })])(
      'should never reorder the records of one source, whatever it drops',
      (input, rate) => {
        const p = processor([
          { type: 'json_parse' },
          { type: 'logfmt_parse' },
          { type: 'level_extract' },
          { type: 'drop', when: { level: ['debug'] } },
          { type: 'sample', rate },
        ]);
        const out = p.processMany(input);
        for (const id of ['a', 'b', 'c']) {
          const offsets = out.filter((r) => r.source.id === id).map(offsetOf);
          expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
          expect(new Set(offsets).size).toBe(offsets.length);
        }
      },
    );

    test.prop([
      interleaved,
      fc.constantFrom('^DEBUG', 'debug', '^\\{', 'z$', '[0-9]'),
    ])(
      'should drop exactly the records its condition matches and keep every other one, in order',
      (input, pattern) => {
        const p = processor([
          { type: 'drop', when: { line_matches: pattern } },
        ]);
        const re = new RegExp(pattern);
        expect(p.processMany(input)).toEqual(
          input.filter((r) => !re.test(r.line)),
        );
      },
    );

    test.prop([
      fc.array(fc.string({ maxLength: 40 }), { maxLength: 50 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
    ])(
      'should sample by line alone: same decision in any order or batch, and a line kept at one rate is kept at every higher one',
      (lines, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const keeps = (rate: number, ls: readonly string[]) => {
          const p = processor([{ type: 'sample', rate }]);
          return new Set(
            p.processMany(ls.map((l) => record(l))).map((r) => r.line),
          );
        };
        const keptLow = keeps(low, lines);
        const keptHigh = keeps(high, lines);
        expect(keeps(low, [...lines].reverse())).toEqual(keptLow);
        for (const line of keptLow) expect(keptHigh.has(line)).toBe(true);
        expect(keeps(0, lines).size).toBe(0);
        expect(keeps(1, lines).size).toBe(new Set(lines).size);
      },
    );

    test.prop([interleaved, fc.double({ min: 0, max: 1, noNaN: true })])(
      'should keep, after drop and sample, every record both keep on their own',
      (input, rate) => {
        const both = processor([
          { type: 'drop', when: { line_matches: 'DEBUG|debug' } },
          { type: 'sample', rate },
        ]);
        const sampleOnly = processor([{ type: 'sample', rate }]);
        const expected = input.filter(
          (r) =>
            !/DEBUG|debug/.test(r.line) && sampleOnly.process(r) !== undefined,
        );
        expect(both.processMany(input)).toEqual(expected);
      },
    );
  });
});

describe('redactStep', () => {
  describe('invariants', () => {
    const alnum = (min: number, max: number) =>
      fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${min},${max}}$`));
    const secrets = fc.oneof(
      fc.emailAddress().map((s) => ({ text: s, secret: s })),
      fc
        .tuple(alnum(8, 20), alnum(8, 20), alnum(8, 20))
        .map(([a, b, c]) => `eyJ${a}.${b}.${c}`)
        .map((s) => ({ text: s, secret: s })),
      alnum(16, 16).map((s) => {
        const id = `AKIA${s.toUpperCase()}`;
        return { text: id, secret: id };
      }),
      fc
        .tuple(
          fc.constantFrom('password', 'api_key', 'token', 'secret'),
          fc.constantFrom('=', ': ', '="'),
          alnum(8, 24),
        )
        .map(([key, sep, value]) => ({
          text: `${key}${sep}${value}`,
          secret: value,
        })),
      alnum(8, 40).map((s) => ({ text: `Bearer ${s}`, secret: s })),
    );
    const noise = fc.stringMatching(/^[a-z ,;:=.@-]{0,20}$/);

    test.prop([noise, secrets, noise])(
      'should leave no secret in the line',
      (before, { text, secret }, after) => {
        const p = processor([{ type: 'redact' }]);
        const line = `${before} ${text} ${after}`;
        const out = p.process(record(line))?.line ?? '';
        expect(out).not.toContain(secret);
        expect(out).toContain('[REDACTED]');
      },
    );

    test.prop([
      fc.array(
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom(
            'password=',
            'token: ',
            'Bearer ',
            'eyJhbGciOi.eyJzdWIiOi.c2lnbmF0',
            'AKIAIOSFODNN7EXAMPLE',
            '4111 1111 1111 1111',
            'a@b.io',
            ' ',
            '"',
          ),
        ),
        { maxLength: 12 },
      ),
    ])('should leave nothing a second pass would redact', (parts) => {
      const p = createProcessor({
        pipelines: [{ name: 'p', steps: [{ type: 'redact' }] }],
      });
      const once = p.process(record(parts.join('')))?.line ?? '';
      expect(p.process(record(once))?.line).toBe(once);
    });
  });
});
