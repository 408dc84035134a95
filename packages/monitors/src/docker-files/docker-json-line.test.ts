import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { DockerJsonFields } from './docker-json-line.js';
import { DockerJsonLineParser } from './docker-json-line.js';

function fields(): DockerJsonFields {
  return {
    text: '',
    partial: false,
    stream: 0,
    timestampMs: 0,
    timestampNanos: 0,
  };
}

function parse(line: string): DockerJsonFields | undefined {
  const out = fields();
  const buf = Buffer.from(line);
  return new DockerJsonLineParser().parseInto(buf, 0, buf.length, out)
    ? out
    : undefined;
}

describe('DockerJsonLineParser', () => {
  describe('parseInto', () => {
    it('should read a line as the engine writes it (variable fraction digits)', () => {
      expect(
        parse(
          '{"log":"line60\\n","stream":"stdout","time":"2026-12-07T13:27:37.74440398Z"}',
        ),
      ).toEqual({
        text: 'line60',
        partial: false,
        stream: 0,
        timestampMs: Date.UTC(2026, 11, 7, 13, 27, 37, 744),
        timestampNanos: 403_980,
      });
    });

    it('should mark a log without newline as partial (a 16 KiB chunk, or output without one)', () => {
      expect(
        parse(
          '{"log":"nonl","stream":"stderr","time":"2026-12-07T13:27:37.783998002Z"}',
        ),
      ).toMatchObject({ text: 'nonl', partial: true, stream: 1 });
    });

    it('should decode escapes the engine writes (quotes, unicode, HTML-escaped characters)', () => {
      expect(
        parse(
          '{"log":"a \\"q\\" \\u003cb\\u003e \\u0026 é\\t\\n","stream":"stdout","time":"2026-12-07T13:27:37Z"}',
        ),
      ).toMatchObject({ text: 'a "q" <b> & é\t', partial: false });
    });

    it('should read entries with attrs or other field orders', () => {
      expect(
        parse(
          '{"stream":"stderr","log":"x\\n","attrs":{"tag":"t"},"time":"2026-12-07T13:27:37.5Z"}',
        ),
      ).toMatchObject({
        text: 'x',
        stream: 1,
        timestampNanos: 0,
        timestampMs: Date.UTC(2026, 11, 7, 13, 27, 37, 500),
      });
    });

    it('should refuse lines that are not json-file entries', () => {
      expect(parse('plain text')).toBeUndefined();
      expect(
        parse('{"log":"x\\n","stream":"stdin","time":"2026-12-07T13:27:37Z"}'),
      ).toBeUndefined();
      expect(
        parse('{"log":"x\\n","stream":"stdout","time":"yesterday"}'),
      ).toBeUndefined();
      expect(parse('{"log":"x\\n","stream":"stdout"')).toBeUndefined();
    });

    test.prop([
      fc.array(
        fc.record({
          // Docker splits its input at newlines: a `log` holds no newline
          // but its last character (a complete line); a partial has none.
          text: fc
            .string({ unit: 'binary' })
            .map((t) => t.replaceAll('\n', ' ')),
          newline: fc.boolean(),
          stream: fc.constantFrom('stdout', 'stderr'),
          ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
          nanos: fc.integer({ min: 0, max: 999_999 }),
          digits: fc.integer({ min: 0, max: 9 }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    ])(
      'should round-trip what JSON encoding writes (text, partial, stream, time to the digits given)',
      (entries) => {
        const parser = new DockerJsonLineParser();
        for (const e of entries) {
          const iso = new Date(e.ms).toISOString().slice(0, 19);
          const frac = (
            String(e.ms % 1000).padStart(3, '0') +
            String(e.nanos).padStart(6, '0')
          ).slice(0, e.digits);
          const time = `${iso}${e.digits === 0 ? '' : `.${frac}`}Z`;
          const log = e.text + (e.newline ? '\n' : '');
          const line = JSON.stringify({ log, stream: e.stream, time });
          const buf = Buffer.from(line);
          const out = fields();
          expect(parser.parseInto(buf, 0, buf.length, out)).toBe(true);
          expect(out.text).toBe(
            Buffer.from(e.newline ? e.text : log).toString(),
          );
          expect(out.partial).toBe(!e.newline);
          expect(out.stream).toBe(e.stream === 'stdout' ? 0 : 1);
          const total = Number(
            `${String(e.ms % 1000).padStart(3, '0')}${String(e.nanos).padStart(6, '0')}`
              .slice(0, e.digits)
              .padEnd(9, '0'),
          );
          expect(out.timestampMs).toBe(
            e.ms - (e.ms % 1000) + Math.floor(total / 1_000_000),
          );
          expect(out.timestampNanos).toBe(total % 1_000_000);
        }
      },
    );
  });
});
