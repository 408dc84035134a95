import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { fc, test } from '@fast-check/vitest';
import { decodeOtlpProtobuf } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { createOtlpMapper } from './otlp-mapping.js';
import { resolveOtlpOptions } from './otlp-options.js';
import { encodeExportLogsRequest } from './otlp-proto.js';
import { severityNumberOf } from './otlp-severity.js';
import {
  parseSpanId,
  parseTraceId,
  parseTraceparent,
} from './otlp-trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function rec(
  labels: Record<string, string>,
  metadata?: Record<string, string>,
): LogRecord {
  return {
    line: 'a line',
    labels: freezeLabels({ ...labels }),
    timestampMs: 1_700_000_000_000,
    timestampNanos: 1,
    source: { kind: 'file', id: 'f' },
    ...(metadata === undefined ? {} : { metadata }),
  };
}

const defaults = () =>
  createOtlpMapper(resolveOtlpOptions({ endpoint: 'http://x:4318' }).mapping);

/** Map, encode and decode with the official definitions. */
function roundTrip(map: ReturnType<typeof defaults>, record: LogRecord) {
  const m = map(record);
  const [rl] = decodeOtlpProtobuf(
    encodeExportLogsRequest([{ resource: m.resource, records: [m.record] }], {
      timestampMs: 0,
      timestampNanos: 0,
    }),
  );
  return rl?.records[0] as NonNullable<typeof rl>['records'][number];
}

describe('severityNumberOf', () => {
  it.each([
    ['trace', 1],
    ['TRACE', 1],
    ['debug', 5],
    ['DBG', 5],
    ['verbose', 5],
    ['fine', 6],
    ['info', 9],
    [' Information ', 9],
    ['notice', 10],
    ['warn', 13],
    ['WARNING', 13],
    ['error', 17],
    ['ERR', 17],
    ['severe', 17],
    ['critical', 18],
    ['alert', 19],
    ['panic', 19],
    ['fatal', 21],
    ['emerg', 21],
    ['E', 17],
    ['30', 9],
    ['60', 21],
    ['nonsense', 0],
    ['', 0],
  ])('should map %j to %i', (text, number) => {
    expect(severityNumberOf(text)).toBe(number);
  });
});

describe('parseTraceparent', () => {
  it('should read version 00 with trace id, span id and flags', () => {
    const ctx = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(ctx?.traceId?.toString('hex')).toBe(TRACE);
    expect(ctx?.spanId?.toString('hex')).toBe(SPAN);
    expect(ctx?.flags).toBe(1);
  });

  it.each([
    `ff-${TRACE}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE}-${SPAN}-01-extra`,
    `00-${TRACE.slice(2)}-${SPAN}-01`,
    'not a traceparent',
  ])('should refuse %j', (text) => {
    expect(parseTraceparent(text)).toBeUndefined();
  });
});

describe('parseTraceId', () => {
  it('should take 32 hex digits in either case and refuse other lengths and all zeros', () => {
    expect(parseTraceId(TRACE.toUpperCase())?.toString('hex')).toBe(TRACE);
    expect(parseTraceId(TRACE.slice(1))).toBeUndefined();
    expect(parseTraceId('0'.repeat(32))).toBeUndefined();
    expect(parseSpanId(SPAN)?.length).toBe(8);
    expect(parseSpanId(`${SPAN}00`)).toBeUndefined();
  });
});

describe('createOtlpMapper', () => {
  it('should put the default resource labels on the resource under semantic-convention names', () => {
    const r = roundTrip(
      defaults(),
      rec({
        service_name: 'checkout',
        job: 'varlogs',
        instance: 'node-1',
        namespace: 'shop',
        pod: 'checkout-7d9',
        container: 'app',
        file_path: '/var/log/app.log',
        stream: 'stdout',
        team: 'a',
      }),
    );
    expect(r.resource).toEqual({
      'service.name': 'checkout',
      'host.name': 'node-1',
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'checkout-7d9',
      'k8s.container.name': 'app',
    });
    // job lost the service.name to service_name, so it stays an attribute.
    expect(r.attributes).toEqual({
      job: 'varlogs',
      'log.file.path': '/var/log/app.log',
      'log.iostream': 'stdout',
      team: 'a',
    });
  });

  it('should use the level for severity and not repeat it as an attribute', () => {
    const r = roundTrip(defaults(), rec({ level: 'WARNING', app: 'x' }));
    expect(r.severityNumber).toBe(13);
    expect(r.severityText).toBe('WARNING');
    expect(r.attributes).toEqual({ app: 'x' });
  });

  it('should keep unknown levels as SeverityText with SeverityNumber 0', () => {
    const r = roundTrip(defaults(), rec({ level: 'chatty' }));
    expect(r.severityNumber).toBe(0);
    expect(r.severityText).toBe('chatty');
  });

  it('should set trace context from a traceparent in the metadata', () => {
    const r = roundTrip(
      defaults(),
      rec({ app: 'x' }, { traceparent: `00-${TRACE}-${SPAN}-01`, user: 'u' }),
    );
    expect(r.traceId).toBe(TRACE);
    expect(r.spanId).toBe(SPAN);
    expect(r.flags).toBe(1);
    expect(r.attributes).toEqual({ app: 'x', user: 'u' });
  });

  it('should set trace and span ids from labels and keep invalid ones as attributes', () => {
    const ok = roundTrip(defaults(), rec({ trace_id: TRACE, span_id: SPAN }));
    expect([ok.traceId, ok.spanId, ok.attributes]).toEqual([TRACE, SPAN, {}]);
    const bad = roundTrip(defaults(), rec({ trace_id: 'abc', span_id: SPAN }));
    expect(bad.traceId).toBe('');
    expect(bad.spanId).toBe(SPAN);
    expect(bad.attributes).toEqual({ trace_id: 'abc' });
  });

  it('should give a shared name to the metadata and keep the label value (under label.<name>, or its own name when severity moved)', () => {
    const r = roundTrip(
      defaults(),
      rec({ level: 'info', user: 'label' }, { level: 'error', user: 'meta' }),
    );
    expect(r.severityText).toBe('error');
    expect(r.attributes).toEqual({
      level: 'info',
      user: 'meta',
      'label.user': 'label',
    });
    expect(new Set(r.attributeKeys).size).toBe(r.attributeKeys.length);
  });

  it('should fill static resource attributes that no label provides', () => {
    const map = createOtlpMapper(
      resolveOtlpOptions({
        endpoint: 'http://x:4318',
        resourceAttributes: {
          'service.name': 'fallback',
          'deployment.environment.name': 'prod',
        },
      }).mapping,
    );
    expect(roundTrip(map, rec({ job: 'api' })).resource).toEqual({
      'service.name': 'api',
      'deployment.environment.name': 'prod',
    });
    expect(roundTrip(map, rec({})).resource).toEqual({
      'service.name': 'fallback',
      'deployment.environment.name': 'prod',
    });
  });

  it('should give records with equal resources the same resource object and key', () => {
    const map = defaults();
    const a = map(rec({ service_name: 's', stream: 'stdout' }));
    const b = map(rec({ service_name: 's', stream: 'stderr' }));
    expect(a.resource).toBe(b.resource);
    expect(a.resourceKey).toBe(b.resourceKey);
    expect(map(rec({ service_name: 't' })).resourceKey).not.toBe(a.resourceKey);
  });

  const keyArb = fc.constantFrom(
    'service_name',
    'job',
    'host',
    'instance',
    'file_path',
    'stream',
    'level',
    'severity',
    'trace_id',
    'span_id',
    'traceparent',
    'app',
    'user',
    'log.file.path',
  );
  const valueArb = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('info', 'ERROR', TRACE, SPAN, `00-${TRACE}-${SPAN}-01`),
  );
  const mapArb = fc.dictionary(keyArb, valueArb, { maxKeys: 6 });

  test.prop([mapArb, fc.option(mapArb, { nil: undefined })])(
    'should lose no label or metadata value (resource, unique attribute, severity or trace context)',
    (labels, metadata) => {
      const r = roundTrip(defaults(), rec(labels, metadata));
      expect(new Set(r.attributeKeys).size).toBe(r.attributeKeys.length);
      const values = [
        ...Object.values(r.resource),
        ...Object.values(r.attributes),
        r.severityText,
      ];
      const traceCtx = `00-${r.traceId}-${r.spanId}-${r.flags.toString(16).padStart(2, '0')}`;
      for (const [key, value] of [
        ...Object.entries(labels),
        ...Object.entries(metadata ?? {}),
      ]) {
        if (values.includes(value)) continue;
        if (value === '' && !['level', 'severity'].includes(key)) {
          expect(values).toContain('');
          continue;
        }
        const carried =
          (value === '' && ['level', 'severity'].includes(key)) ||
          value.toLowerCase() === r.traceId ||
          value.toLowerCase() === r.spanId ||
          value.toLowerCase() === traceCtx;
        // A value used as trace context must equal what was sent; anything
        // else must be found among the resource and attribute values.
        expect({ key, value, carried }).toEqual({ key, value, carried: true });
      }
    },
  );
});
