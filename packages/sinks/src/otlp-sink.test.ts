// The OTLP sink against a real HTTP server started in the test
// (createOtlpTestServer from @lc/test-utils). No OpenTelemetry Collector can
// be installed here, so that endpoint speaks the OTLP/HTTP wire format
// instead: it decodes every request with the official opentelemetry-proto
// definitions (protobufjs code shipped by @opentelemetry/otlp-transformer)
// and answers like a Collector's OTLP receiver or as a test scripts it.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { freezeLabels } from '@lc/core';
import type { LogRecord, WriteResult } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { createOtlpTestServer } from '@lc/test-utils';
import type { OtlpTestServer } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOtlpSink } from './otlp-sink.js';
import type { OtlpSinkOptions } from './otlp-sink.js';

const signal = new AbortController().signal;
const NOW = 1_700_000_000_000;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function rec(
  line: string,
  labels: Record<string, string> = {},
  metadata?: Record<string, string>,
  ms = NOW,
  nanos = 0,
): LogRecord {
  return {
    line,
    labels: freezeLabels({ ...labels }),
    timestampMs: ms,
    timestampNanos: nanos,
    source: { kind: 'file', id: 'f1' },
    ...(metadata === undefined ? {} : { metadata }),
  };
}

function byTime(server: OtlpTestServer): string[] {
  return server
    .records()
    .sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1))
    .map((r) => r.body ?? '');
}

describeSinkContract('otlp (protobuf, gzip)', async () => {
  const server = await createOtlpTestServer();
  return {
    sink: createOtlpSink({ endpoint: server.url }),
    readBack: async () => byTime(server),
    cleanup: () => server.close(),
  };
});

describeSinkContract('otlp (json, uncompressed)', async () => {
  const server = await createOtlpTestServer();
  return {
    sink: createOtlpSink({
      logsEndpoint: server.logsUrl,
      encoding: 'json',
      compression: 'none',
    }),
    readBack: async () => byTime(server),
    cleanup: () => server.close(),
  };
});

describe('createOtlpSink', () => {
  let server: OtlpTestServer;
  const sinks: Array<{ shutdown(): Promise<void> }> = [];
  const make = (options: Partial<OtlpSinkOptions> = {}) => {
    const sink = createOtlpSink({ endpoint: server.url, ...options });
    sinks.push(sink);
    return sink;
  };

  beforeEach(async () => {
    server = await createOtlpTestServer();
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.shutdown();
    await server.close();
  });

  describe('options', () => {
    it.each([
      [{}, /exactly one of endpoint .* got neither/],
      [
        { endpoint: 'http://a:4318', logsEndpoint: 'http://a:4318/v1/logs' },
        /got both/,
      ],
      [{ endpoint: 'ftp://a' }, /endpoint must be an http/],
      [
        { endpoint: 'http://a', encoding: 'xml' },
        /encoding must be 'protobuf' or 'json'/,
      ],
      [
        { endpoint: 'http://a', compression: 'zstd' },
        /compression must be 'gzip' or 'none'/,
      ],
      [
        { endpoint: 'http://a', partialSuccess: 'drop' },
        /partialSuccess must be/,
      ],
      [
        { endpoint: 'http://a', requestTimeoutMs: 0 },
        /requestTimeoutMs must be a positive/,
      ],
      [
        { endpoint: 'http://a', severityKeys: [''] },
        /severityKeys must be an array of non-empty strings/,
      ],
    ])('should refuse %j naming the option', (options, message) => {
      expect(() => createOtlpSink(options as OtlpSinkOptions)).toThrow(message);
    });

    it('should append /v1/logs to endpoint (OTEL_EXPORTER_OTLP_ENDPOINT rule) and use logsEndpoint as is', async () => {
      const base = createOtlpTestServer({ path: '/otlp/v1/logs' });
      const custom = await base;
      try {
        for (const options of [
          { endpoint: `${custom.url}/otlp` },
          { endpoint: `${custom.url}/otlp/` },
          { logsEndpoint: `${custom.url}/otlp/v1/logs` },
        ]) {
          const sink = createOtlpSink(options);
          sinks.push(sink);
          expect((await sink.write([rec('x')], { signal })).status).toBe(
            'success',
          );
        }
        expect(custom.requests.map((r) => r.path)).toEqual([
          '/otlp/v1/logs',
          '/otlp/v1/logs',
          '/otlp/v1/logs',
        ]);
      } finally {
        await custom.close();
      }
    });
  });

  describe('write', () => {
    it('should POST gzipped protobuf by default with the configured headers', async () => {
      const sink = make({
        headers: {
          Authorization: 'Bearer t0k',
          'x-optional': '',
          'Content-Encoding': 'br',
        },
      });
      const result = await sink.write(
        [
          rec('first', { job: 'api', level: 'info' }, undefined, NOW, 123_456),
          rec('second', { job: 'api', level: 'error' }, undefined, NOW + 1, 7),
        ],
        { signal },
      );
      expect(result.status).toBe('success');
      const [req] = server.requests;
      expect(req?.encoding).toBe('protobuf');
      expect(req?.gzip).toBe(true);
      expect(req?.headers['content-type']).toBe('application/x-protobuf');
      expect(req?.headers.authorization).toBe('Bearer t0k');
      expect(req?.headers).not.toHaveProperty('x-optional');
      expect(req?.headers['content-encoding']).toBe('gzip');
      const records = server.records();
      expect(
        records.map((r) => [
          r.body,
          r.timeUnixNano,
          r.severityNumber,
          r.severityText,
        ]),
      ).toEqual([
        ['first', '1700000000000123456', 9, 'info'],
        ['second', '1700000000001000007', 17, 'error'],
      ]);
      expect(records[0]?.resource).toEqual({ 'service.name': 'api' });
      expect(BigInt(records[0]?.observedTimeUnixNano ?? 0)).toBeGreaterThan(0n);
    });

    it('should POST JSON when asked, uncompressed with compression none', async () => {
      const sink = make({ encoding: 'json', compression: 'none' });
      await sink.write([rec('json line', { app: 'x' }, { trace_id: TRACE })], {
        signal,
      });
      const [req] = server.requests;
      expect([
        req?.encoding,
        req?.gzip,
        req?.headers['content-encoding'],
      ]).toEqual(['json', false, undefined]);
      expect(server.records()[0]).toMatchObject({
        body: 'json line',
        attributes: { app: 'x' },
        traceId: TRACE,
      });
    });

    it('should group records into one ResourceLogs per resource in one request', async () => {
      const sink = make();
      await sink.write(
        [
          rec('a1', { service_name: 'a', stream: 'stdout' }),
          rec('b1', { service_name: 'b' }),
          rec('a2', { service_name: 'a', stream: 'stderr' }),
        ],
        { signal },
      );
      expect(server.requests).toHaveLength(1);
      const groups = server.requests[0]?.resourceLogs ?? [];
      expect(
        groups.map((g) => [
          g.resource['service.name'],
          g.records.map((r) => r.body),
        ]),
      ).toEqual([
        ['a', ['a1', 'a2']],
        ['b', ['b1']],
      ]);
      expect(
        groups[0]?.records.map((r) => r.attributes['log.iostream']),
      ).toEqual(['stdout', 'stderr']);
    });

    it('should carry W3C traceparent and id fields as trace_id, span_id and flags', async () => {
      const sink = make();
      await sink.write(
        [
          rec('tp', {}, { traceparent: `00-${TRACE}-${SPAN}-01` }),
          rec('ids', { trace_id: TRACE.toUpperCase(), span_id: SPAN }),
          rec('bad', {}, { trace_id: 'not-hex' }),
        ],
        { signal },
      );
      expect(
        server.records().map((r) => [r.body, r.traceId, r.spanId, r.flags]),
      ).toEqual([
        ['tp', TRACE, SPAN, 1],
        ['ids', TRACE, SPAN, 0],
        ['bad', '', '', 0],
      ]);
      expect(server.records()[2]?.attributes).toEqual({ trace_id: 'not-hex' });
    });

    it('should split batches over maxRequestBytes and fail only records that can never fit', async () => {
      const sink = make({ maxRequestBytes: 600, compression: 'none' });
      const batch = [
        ...Array.from({ length: 12 }, (_, i) =>
          rec(`line ${i} ${'x'.repeat(80)}`, { job: 'split' }),
        ),
        rec('y'.repeat(700), { job: 'split' }),
      ];
      const result = await sink.write(batch, { signal });
      expect(result.status).toBe('partial');
      if (result.status === 'partial') {
        expect(
          result.failed.map((f) => [f.index, f.retryable, f.error.code]),
        ).toEqual([[12, false, 'LC_ERR_RECORD_TOO_LARGE']]);
      }
      expect(server.requests.length).toBeGreaterThan(1);
      for (const r of server.requests)
        expect(r.bodyBytes).toBeLessThanOrEqual(600);
      expect(server.records().map((r) => r.body)).toEqual(
        batch.slice(0, 12).map((r) => r.line),
      );
    });

    it('should resolve retryable LC_ERR_SINK_UNAVAILABLE when nothing listens', async () => {
      const port = await new Promise<number>((resolve) => {
        const s = createServer();
        s.listen(0, '127.0.0.1', () => {
          const p = (s.address() as AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const sink = createOtlpSink({ endpoint: `http://127.0.0.1:${port}` });
      sinks.push(sink);
      const result: WriteResult = await sink.write([rec('x')], { signal });
      expect(result.status === 'retryable' && result.error.code).toBe(
        'LC_ERR_SINK_UNAVAILABLE',
      );
    });

    it('should count delivered records and requests by status', async () => {
      const registry = new Registry();
      server.respondWith({ status: 503 });
      const sink = make({ registry, name: 'otel' });
      await sink.write([rec('a')], { signal });
      await sink.write([rec('a'), rec('b')], { signal });
      const text = await registry.metrics();
      expect(text).toContain(
        'lc_sink_records_total{kind="otlp",sink="otel",outcome="delivered"} 2',
      );
      expect(text).toContain(
        'lc_sink_records_total{kind="otlp",sink="otel",outcome="retryable"} 1',
      );
      expect(text).toContain(
        'lc_sink_requests_total{kind="otlp",sink="otel",status="503"} 1',
      );
    });

    it('should gzip bodies: the endpoint gunzips and decodes them, and repetitive lines shrink', async () => {
      const result = await make().write([rec('z'.repeat(5000), { job: 'z' })], {
        signal,
      });
      expect(result.status).toBe('success');
      const [req] = server.requests;
      expect([
        req?.gzip,
        req?.headers['content-encoding'],
        req?.status,
      ]).toEqual([true, 'gzip', 200]);
      expect(req?.bodyBytes).toBeLessThan(500);
      expect(server.records()[0]?.body).toBe('z'.repeat(5000));
    });
  });
});
