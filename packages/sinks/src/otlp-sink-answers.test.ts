// The OTLP sink's handling of answers (OTLP/HTTP retry rules, google.rpc.Status
// reasons, partial success) against a real HTTP server started in the test
// (createOtlpTestServer from @lc/test-utils). No OpenTelemetry Collector can
// be installed here, so that endpoint speaks the OTLP/HTTP wire format
// instead: it decodes every request with the official opentelemetry-proto
// definitions (protobufjs code shipped by @opentelemetry/otlp-transformer)
// and answers like a Collector's OTLP receiver or as a test scripts it.
import { freezeLabels } from '@lc/core';
import type { Logger, LogRecord } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import { createOtlpTestServer } from '@lc/test-utils';
import type { OtlpTestServer } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOtlpSink } from './otlp-sink.js';
import type { OtlpSinkOptions } from './otlp-sink.js';

const signal = new AbortController().signal;
const NOW = 1_700_000_000_000;

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

function captureLogger(): Logger & { warns: Array<[object, string?]> } {
  const warns: Array<[object, string?]> = [];
  const noop = () => {};
  const logger = {
    warns,
    trace: noop,
    debug: noop,
    info: noop,
    error: noop,
    fatal: noop,
    warn: (obj: object | string, msg?: string) => {
      warns.push(typeof obj === 'string' ? [{}, obj] : [obj, msg]);
    },
    child: () => logger,
  };
  return logger as Logger & { warns: Array<[object, string?]> };
}

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

  describe('write (answers: OTLP retry rules, partial success)', () => {
    it('should resolve retryable with Retry-After seconds on 429', async () => {
      server.respondWith({
        status: 429,
        retryAfter: '3',
        message: 'slow down',
      });
      const result = await make().write([rec('x')], { signal });
      expect(result).toMatchObject({ status: 'retryable', retryAfterMs: 3000 });
      if (result.status === 'retryable') {
        expect(result.error.code).toBe('LC_ERR_SINK_RATE_LIMITED');
        expect(result.error.message).toContain('slow down');
      }
    });

    it('should read an HTTP-date Retry-After against the injected clock', async () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      server.respondWith({
        status: 503,
        retryAfter: 'Thu, 01 Jan 2026 00:00:10 GMT',
      });
      const sink = make({ clock: createFakeClock(now) });
      expect(await sink.write([rec('x')], { signal })).toMatchObject({
        status: 'retryable',
        retryAfterMs: 10_000,
      });
    });

    it.each([502, 503, 504])(
      'should resolve retryable on %i (OTLP retryable codes)',
      async (status) => {
        server.respondWith({ status, message: 'collector busy' });
        const result = await make().write([rec('x')], { signal });
        expect(result.status).toBe('retryable');
        if (result.status === 'retryable')
          expect(result.error.code).toBe('LC_ERR_SINK_UNAVAILABLE');
      },
    );

    it.each([400, 404, 413, 500])(
      'should resolve failure on %i (not retryable per the OTLP spec)',
      async (status) => {
        server.respondWith({ status, message: `reason ${status}` });
        const result = await make().write([rec('x'), rec('y')], { signal });
        expect(result.status).toBe('failure');
        if (result.status === 'failure') {
          expect(result.error.code).toBe('LC_ERR_SINK_REJECTED');
          expect(result.error.message).toContain(`reason ${status}`);
        }
      },
    );

    it('should decode the google.rpc.Status of a JSON error and keep a proxy text page', async () => {
      server.respondWith(
        { status: 400, message: 'field timeUnixNano bad' },
        {
          status: 400,
          body: '<html>bad gateway config</html>',
          contentType: 'text/html',
        },
      );
      const sink = make({ encoding: 'json' });
      const a = await sink.write([rec('x')], { signal });
      const b = await sink.write([rec('x')], { signal });
      expect(a.status === 'failure' && a.error.message).toContain(
        'field timeUnixNano bad',
      );
      expect(b.status === 'failure' && b.error.message).toContain(
        '<html>bad gateway config</html>',
      );
    });

    it('should resolve failure LC_ERR_SINK_AUTH on 401', async () => {
      const auth = await createOtlpTestServer({
        expectAuthorization: 'Basic abc',
      });
      try {
        const sink = createOtlpSink({
          endpoint: auth.url,
          headers: { authorization: 'Basic wrong' },
        });
        sinks.push(sink);
        const result = await sink.write([rec('x')], { signal });
        expect(result.status === 'failure' && result.error.code).toBe(
          'LC_ERR_SINK_AUTH',
        );
      } finally {
        await auth.close();
      }
    });

    it('should count and log (rate-limited) rejected records of a partial success and report delivery', async () => {
      const registry = new Registry();
      const logger = captureLogger();
      server.respondWith(
        {
          status: 200,
          partialSuccess: { rejectedLogRecords: 2, errorMessage: 'too old' },
        },
        {
          status: 200,
          partialSuccess: { rejectedLogRecords: 1, errorMessage: 'too old' },
        },
      );
      const sink = make({ registry, logger });
      const batch = [rec('a'), rec('b'), rec('c')];
      expect((await sink.write(batch, { signal })).status).toBe('success');
      expect((await sink.write(batch, { signal })).status).toBe('success');
      const rejected = await registry
        .getSingleMetric('lc_sink_otlp_rejected_records_total')
        ?.get();
      expect(rejected?.values[0]?.value).toBe(3);
      expect(logger.warns).toHaveLength(1);
      expect(logger.warns[0]?.[1]).toContain(
        'rejected 2 of 3 log records: too old',
      );
    });

    it('should dead-letter the whole request on a partial success with partialSuccess dlq', async () => {
      server.respondWith({
        status: 200,
        partialSuccess: { rejectedLogRecords: 1, errorMessage: 'bad attr' },
      });
      const result = await make({
        partialSuccess: 'dlq',
        encoding: 'json',
      }).write([rec('a'), rec('b')], { signal });
      expect(result.status).toBe('failure');
      if (result.status === 'failure') {
        expect(result.error.code).toBe('LC_ERR_SINK_REJECTED');
        expect(result.error.message).toContain(
          'rejected 1 of 2 log records (partial success: bad attr)',
        );
      }
    });

    it('should treat a partial success without rejected records as a warning', async () => {
      const logger = captureLogger();
      server.respondWith({
        status: 200,
        partialSuccess: {
          rejectedLogRecords: 0,
          errorMessage: 'deprecated field',
        },
      });
      const result = await make({ logger }).write([rec('a')], { signal });
      expect(result.status).toBe('success');
      expect(logger.warns[0]?.[1]).toContain(
        'accepted every record with a warning: deprecated field',
      );
    });
  });
});
