import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

/** What a json-file line means, by the JSON spec and RFC 3339: the reference the fast path must agree with. */
function reference(line: Buffer): DockerJsonFields | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { log, stream, time } = entry as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string') return undefined;
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
      time,
    );
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const offsetMs =
    m[8] === undefined
      ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60_000
      : 0;
  const nanos = Number((m[7] ?? '').padEnd(9, '0'));
  const complete = log.endsWith('\n');
  return {
    text: complete ? log.slice(0, -1) : log,
    partial: !complete,
    stream: stream === 'stdout' ? 0 : 1,
    timestampMs: date.getTime() - offsetMs + Math.floor(nanos / 1_000_000),
    timestampNanos: nanos % 1_000_000,
  };
}

/** JSON encoding as the engine's Go encoder writes it (`<`, `>`, `&`, U+2028/9 escaped too). */
function goJson(value: string): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const timeArb = fc.oneof(
  // As the engine writes them.
  fc
    .record({
      ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      nanos: fc.integer({ min: 0, max: 999_999 }),
      digits: fc.integer({ min: 0, max: 9 }),
    })
    .map(({ ms, nanos, digits }) => {
      const frac = (
        String(ms % 1000).padStart(3, '0') + String(nanos).padStart(6, '0')
      ).slice(0, digits);
      return `${new Date(ms).toISOString().slice(0, 19)}${digits === 0 ? '' : `.${frac}`}Z`;
    }),
  // Anything RFC 3339-like, valid or not.
  fc
    .tuple(
      fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      fc.constantFrom('T', 't', ' ', 'x'),
      fc.stringMatching(/^\d{2}:\d{2}:\d{2}$/),
      fc.constantFrom('', '.', '.1', '.123456789', '.1234567890', '.12a'),
      fc.constantFrom('Z', 'z', '+02:00', '-11:30', '+0200', '', 'ZZ', '+2:00'),
    )
    .map((parts) => parts.join('')),
  fc.string(),
);

const logArb = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }).map((t) => `${t}\n`),
  fc.constantFrom('', '\n', 'a\\', '\\n', '"', '\u0000\t\r\n', '\ud800'),
);

/** A line as the engine writes it, then maybe changed into something else. */
const lineArb = fc.oneof(
  fc
    .record({
      log: logArb,
      stream: fc.constantFrom('stdout', 'stderr', 'stdin', 'StdOut'),
      time: timeArb,
      tail: fc.constantFrom(
        '}',
        '}',
        '} ',
        '}\r',
        ',"attrs":{"tag":"a"}}',
        ',"log":"again\\n"}',
        '}}',
        '',
        'x}',
        'x',
        ' ',
      ),
      encode: fc.constantFrom(goJson, (s: string) => JSON.stringify(s)),
    })
    .map(({ log, stream, time, tail, encode }) =>
      Buffer.from(
        `{"log":${encode(log)},"stream":"${stream}","time":${JSON.stringify(time)}${tail}`,
      ),
    ),
  // Another field order, or whitespace.
  fc
    .record({ log: logArb, time: timeArb })
    .map(({ log, time }) =>
      Buffer.from(
        `{ "stream" : "stderr", "time":${JSON.stringify(time)}, "log":${JSON.stringify(log)} }`,
      ),
    ),
  fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)),
);

/** Bytes cut, replaced or inserted at random places (malformed lines, broken UTF-8, raw control bytes). */
const mutatedArb = fc
  .tuple(
    lineArb,
    fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('cut', 'set', 'insert'),
        byte: fc.constantFrom(
          0x22,
          0x5c,
          0x7d,
          0x0a,
          0x09,
          0x00,
          0xe2,
          0x80,
          0xff,
          0x6e,
          0x7b,
        ),
      }),
      { maxLength: 3 },
    ),
  )
  .map(([line, edits]) => {
    let b = line;
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.op === 'cut') b = b.subarray(0, at);
      else if (e.op === 'set' && b.length > 0)
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from([e.byte]),
          b.subarray(at + 1),
        ]);
      else
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from([e.byte]),
          b.subarray(at),
        ]);
    }
    return b;
  });

describe('DockerJsonLineParser', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

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

    it("should read the engine's own lines without JSON.parse (a whole line, a partial, a new second)", () => {
      const spy = vi.spyOn(JSON, 'parse');
      const parser = new DockerJsonLineParser();
      const lines = [
        '{"log":"c00 000000001 xxx\\n","stream":"stdout","time":"2026-12-07T15:12:35.109954745Z"}',
        '{"log":"chunk without newline","stream":"stderr","time":"2026-12-07T15:12:35.10997Z"}',
        '{"log":"next second é\\n","stream":"stdout","time":"2026-12-07T15:12:36Z"}',
      ];
      const got = lines.map((l) => {
        const out = fields();
        const buf = Buffer.from(l);
        expect(parser.parseInto(buf, 0, buf.length, out)).toBe(true);
        return out;
      });
      expect(spy).not.toHaveBeenCalled();
      expect(got).toEqual([
        {
          text: 'c00 000000001 xxx',
          partial: false,
          stream: 0,
          timestampMs: Date.UTC(2026, 11, 7, 15, 12, 35, 109),
          timestampNanos: 954_745,
        },
        {
          text: 'chunk without newline',
          partial: true,
          stream: 1,
          timestampMs: Date.UTC(2026, 11, 7, 15, 12, 35, 109),
          timestampNanos: 970_000,
        },
        {
          text: 'next second é',
          partial: false,
          stream: 0,
          timestampMs: Date.UTC(2026, 11, 7, 15, 12, 36),
          timestampNanos: 0,
        },
      ]);
    });

    it('should parse a line inside a larger buffer (only the bytes in range)', () => {
      const line =
        '{"log":"mid\\n","stream":"stdout","time":"2026-12-07T15:12:35.5Z"}';
      const buf = Buffer.from(`garbage\n${line}\n{"log":`);
      const out = fields();
      expect(
        new DockerJsonLineParser().parseInto(buf, 8, 8 + line.length, out),
      ).toBe(true);
      expect(out).toMatchObject({ text: 'mid', partial: false });
    });

    it('should read times with an offset, lowercase separators and refuse out-of-range fields', () => {
      const at = (time: string) =>
        parse(`{"log":"x\\n","stream":"stdout","time":"${time}"}`);
      expect(at('2026-12-07T15:12:35.25+02:00')).toMatchObject({
        timestampMs: Date.UTC(2026, 11, 7, 13, 12, 35, 250),
      });
      expect(at('2026-12-07t15:12:35z')?.timestampMs).toBe(
        Date.UTC(2026, 11, 7, 15, 12, 35),
      );
      expect(at('2026-13-07T15:12:35Z')).toBeUndefined();
      expect(at('2026-12-07T24:12:35Z')).toBeUndefined();
      expect(at('2026-12-07T15:12:35.1234567890Z')).toBeUndefined();
      expect(at('2026-12-07T15:12:35.Z')).toBeUndefined();
    });

    it('should refuse a line with bytes after the object or a raw control character in log', () => {
      expect(
        parse(
          '{"log":"x\\n","stream":"stdout","time":"2026-12-07T13:27:37Z"}x',
        ),
      ).toBeUndefined();
      expect(
        parse('{"log":"x\\n","stream":"stdout","time":"2026-12-07T13:27:37Z"x'),
      ).toBeUndefined();
      expect(
        parse(
          '{"log":"a\tb\\n","stream":"stdout","time":"2026-12-07T13:27:37Z"}',
        ),
      ).toBeUndefined();
    });

    test.prop(
      [
        fc.array(fc.oneof(lineArb, mutatedArb), {
          minLength: 1,
          maxLength: 30,
        }),
      ],
      {
        numRuns: 300,
      },
    )(
      'should agree with the JSON.parse reference on any line (escapes, unicode, malformed)',
      (lines) => {
        // One parser for all: its cached second must not leak into the
        // next line. All lines in one buffer, as the splitter hands them:
        // bytes around a line must not change how it parses.
        const parser = new DockerJsonLineParser();
        const buf = Buffer.concat(
          lines.flatMap((l) => [l, Buffer.from('\\\n')]),
        );
        let start = 0;
        for (const line of lines) {
          const out = fields();
          const ok = parser.parseInto(buf, start, start + line.length, out);
          start += line.length + 2;
          const want = reference(line);
          expect(ok ? out : undefined).toEqual(want);
        }
      },
    );

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
