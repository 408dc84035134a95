import { fc, test } from '@fast-check/vitest';
import type { LogRecord } from '@lc/core';
import { freezeLabels } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { pipelineSchema } from '../config/processing-schema.js';
import type { PipelineConfig } from '../config/processing-schema.js';
import { createProcessor } from './create-processor.js';
import { parseLogfmt } from './parse-steps.js';
import { luhnValid } from './redact-step.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

function record(
  line: string,
  labels: Record<string, string> = {},
  kind = 'file',
): LogRecord {
  return {
    line,
    labels: freezeLabels({ ...labels }),
    source: { kind, id: 'src-1' },
    cursor: { offset: 10, line: 1 },
    timestampMs: NOW,
    timestampNanos: 0,
  };
}

function processor(
  steps: unknown[],
  extra: Partial<Record<string, unknown>> = {},
) {
  const pipeline: PipelineConfig = pipelineSchema.parse({
    name: 'p',
    steps,
    ...extra,
  });
  return createProcessor({
    pipelines: [pipeline],
    clock: createFakeClock(NOW),
  });
}

describe('createProcessor', () => {
  describe('process', () => {
    it('should return the very same record when no step changes it', () => {
      const p = processor([
        { type: 'json_parse' },
        { type: 'level_extract', pattern: '(zzz)' },
      ]);
      const r = record('plain text');
      expect(p.process(r)).toBe(r);
    });

    it('should parse JSON and promote fields to labels, metadata and line', () => {
      const p = processor([
        {
          type: 'json_parse',
          labels: ['app'],
          metadata: ['trace_id'],
          message_field: 'msg',
        },
      ]);
      const out = p.process(
        record('{"app":"api","trace_id":"t1","msg":"hello","n":1}'),
      );
      expect(out?.line).toBe('hello');
      expect(out?.labels).toEqual({ app: 'api' });
      expect(out?.metadata).toEqual({ trace_id: 't1' });
      expect(out?.cursor).toEqual({ offset: 10, line: 1 });
    });

    it('should leave non-JSON lines untouched', () => {
      const p = processor([{ type: 'json_parse', labels: ['app'] }]);
      const r = record('{not json');
      expect(p.process(r)).toBe(r);
    });

    it('should extract named groups with regex_extract', () => {
      const p = processor([
        {
          type: 'regex_extract',
          pattern: '^(?<method>[A-Z]+) (?<path>\\S+)',
          metadata: ['path'],
          labels: ['method'],
        },
      ]);
      const out = p.process(record('GET /x 200'));
      expect(out?.labels).toEqual({ method: 'GET' });
      expect(out?.metadata).toEqual({ path: '/x' });
    });

    it('should parse logfmt and extract the level from it', () => {
      const p = processor([
        { type: 'logfmt_parse' },
        { type: 'level_extract' },
      ]);
      const out = p.process(record('ts=1 level=WARNING msg="disk full" ok'));
      expect(out?.labels).toEqual({ level: 'warn' });
    });

    it('should keep field names that are Object.prototype keys (names are data)', () => {
      const p = processor([
        {
          type: 'logfmt_parse',
          metadata: ['__proto__', 'constructor'],
        },
      ]);
      const out = p.process(record('__proto__=p constructor=c msg=x'));
      expect(Object.entries(out?.metadata ?? {})).toEqual([
        ['__proto__', 'p'],
        ['constructor', 'c'],
      ]);
    });

    it('should fall back to a regex over the line for the level', () => {
      const p = processor([{ type: 'level_extract' }]);
      expect(p.process(record('[ERROR] boom'))?.labels).toEqual({
        level: 'error',
      });
    });

    it('should add, template, rename and remove labels copy-on-write', () => {
      const p = processor([
        { type: 'json_parse' },
        { type: 'labels_add', labels: { env: 'prod', svc: 'svc-{{app}}' } },
        { type: 'labels_rename', mapping: { host: 'hostname' } },
        { type: 'labels_remove', labels: ['tmp'] },
      ]);
      const input = record('{"app":"api"}', { host: 'h1', tmp: 'x' });
      const before = { ...input.labels };
      const out = p.process(input);
      expect(out?.labels).toEqual({
        env: 'prod',
        svc: 'svc-api',
        hostname: 'h1',
      });
      expect(input.labels).toEqual(before);
      expect(Object.isFrozen(out?.labels)).toBe(true);
    });

    it('should run a step only when its condition holds', () => {
      const p = processor([
        {
          type: 'labels_add',
          labels: { x: '1' },
          when: { line_matches: '^a' },
        },
      ]);
      expect(p.process(record('abc'))?.labels).toEqual({ x: '1' });
      expect(p.process(record('bcd'))?.labels).toEqual({});
    });

    it('should drop by condition and count it', () => {
      const p = processor([
        { type: 'level_extract' },
        { type: 'drop', when: { level: ['debug'] } },
      ]);
      expect(p.process(record('DEBUG noise'))).toBeUndefined();
      expect(p.process(record('INFO ok'))).toBeDefined();
      expect(p.stats()).toEqual({ processed: 2, dropped: 1, modified: 1 });
    });
  });

  describe('timestamp_parse', () => {
    const ts = (extra: Record<string, unknown>) =>
      processor([
        { type: 'json_parse' },
        { type: 'timestamp_parse', field: 'ts', ...extra },
      ]);

    it('should set the event time with nanoseconds from RFC 3339', () => {
      const out = ts({}).process(
        record('{"ts":"2026-11-23T11:59:00.123456789Z"}'),
      );
      expect(out?.timestampMs).toBe(Date.UTC(2026, 10, 23, 11, 59, 0, 123));
      expect(out?.timestampNanos).toBe(456_789);
    });

    it('should apply the configured zone to zone-less times', () => {
      const out = ts({ timezone: '-03:00' }).process(
        record('{"ts":"2026-11-23 08:30:00"}'),
      );
      expect(out?.timestampMs).toBe(Date.UTC(2026, 10, 23, 11, 30, 0));
      const iana = ts({ timezone: 'America/Sao_Paulo' }).process(
        record('{"ts":"2026-11-23 08:30:00"}'),
      );
      expect(iana?.timestampMs).toBe(Date.UTC(2026, 10, 23, 11, 30, 0));
    });

    it('should parse unix seconds, common log and custom patterns', () => {
      expect(
        ts({}).process(record(`{"ts":${NOW / 1000 - 60}}`))?.timestampMs,
      ).toBe(NOW - 60_000);
      const common = processor([
        { type: 'timestamp_parse', pattern: '\\[([^\\]]+)\\]' },
      ]);
      expect(
        common.process(
          record('1.2.3.4 - - [23/Nov/2026:09:00:00 -0300] "GET /"'),
        )?.timestampMs,
      ).toBe(Date.UTC(2026, 10, 23, 12, 0, 0));
      const custom = ts({ formats: ['DD.MM.YYYY HH:mm:ss'] });
      expect(
        custom.process(record('{"ts":"23.11.2026 10:00:00"}'))?.timestampMs,
      ).toBe(Date.UTC(2026, 10, 23, 10));
    });

    it('should clamp, reject or warn on out-of-range times', () => {
      const old = record('{"ts":"2020-01-01T00:00:00Z"}');
      const clamped = ts({ max_past: '1h' }).process(old);
      expect(clamped?.timestampMs).toBe(NOW - 3_600_000);
      expect(
        ts({ max_past: '1h', on_invalid: 'reject' }).process(old),
      ).toBeUndefined();
      const warned = ts({ max_past: '1h', on_invalid: 'warn' }).process(old);
      expect(warned?.labels).toEqual({ timestamp_warning: 'too_old' });
      expect(warned?.timestampMs).toBe(Date.UTC(2020, 0, 1));
      const future = ts({ max_future: '1m' }).process(
        record('{"ts":"2026-11-23T13:00:00Z"}'),
      );
      expect(future?.timestampMs).toBe(NOW + 60_000);
    });

    it('should keep the read time when the text does not parse', () => {
      const r = record('{"ts":"yesterday"}');
      expect(ts({}).process(r)?.timestampMs).toBe(NOW);
    });
  });

  describe('redact', () => {
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

  describe('sample', () => {
    it('should decide per line, identically on a re-read', () => {
      const p = processor([{ type: 'sample', rate: 0.5 }]);
      const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
      const first = lines.map((l) => p.process(record(l)) !== undefined);
      const second = lines.map((l) => p.process(record(l)) !== undefined);
      expect(second).toEqual(first);
      const kept = first.filter(Boolean).length;
      expect(kept).toBeGreaterThan(800);
      expect(kept).toBeLessThan(1200);
    });
  });

  describe('pipelineFor', () => {
    it('should pick the first matching pipeline and fall back to default', () => {
      const pipelines = [
        {
          name: 'default',
          steps: [{ type: 'labels_add', labels: { p: 'default' } }],
        },
        {
          name: 'nginx',
          match: { labels: { filename: '/var/log/nginx/*' } },
          steps: [],
        },
        { name: 'docker', match: { kind: ['container'] }, steps: [] },
      ].map((p) => pipelineSchema.parse(p));
      const p = createProcessor({ pipelines });
      expect(
        p.pipelineFor(record('x', { filename: '/var/log/nginx/a.log' })),
      ).toBe('nginx');
      expect(p.pipelineFor(record('x', {}, 'container'))).toBe('docker');
      expect(p.pipelineFor(record('x', { filename: '/tmp/a.log' }))).toBe(
        'default',
      );
    });
  });

  describe('invariants', () => {
    const steps = [
      { type: 'json_parse', labels: ['a'] },
      { type: 'logfmt_parse', labels: ['b'] },
      { type: 'level_extract' },
      { type: 'redact' },
      { type: 'labels_add', labels: { x: '{{a}}' } },
    ];
    test.prop([fc.array(fc.string(), { maxLength: 20 })])(
      'should keep source, cursor and order for every kept record and never mutate input',
      (lines) => {
        const p = processor(steps);
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
  });
});

describe('parseLogfmt', () => {
  it('should handle quotes, escapes and bare keys', () => {
    expect(parseLogfmt('a=1 b="x y" c="q\\"d" flag')).toEqual({
      a: '1',
      b: 'x y',
      c: 'q"d',
      flag: 'true',
    });
  });

  test.prop([
    fc.dictionary(
      fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
      fc.string({ maxLength: 20 }),
    ),
  ])('should round-trip quoted values', (dict) => {
    const line = Object.entries(dict)
      .map(
        ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
      )
      .join(' ');
    expect(parseLogfmt(line)).toEqual(dict);
  });
});

describe('lc_processing_records_total', () => {
  it('should report kept and dropped counts at scrape time', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    const p = createProcessor({
      registry,
      pipelines: [
        pipelineSchema.parse({
          name: 'p',
          steps: [{ type: 'drop', when: { line_matches: '^x' } }],
        }),
      ],
    });
    p.process(record('x1'));
    p.process(record('a'));
    p.process(record('b'));
    const text = await registry.metrics();
    expect(text).toContain(
      'lc_processing_records_total{pipeline="p",outcome="kept"} 2',
    );
    expect(text).toContain(
      'lc_processing_records_total{pipeline="p",outcome="dropped"} 1',
    );
    p.process(record('c'));
    expect(await registry.metrics()).toContain(
      'lc_processing_records_total{pipeline="p",outcome="kept"} 3',
    );
  });
});
