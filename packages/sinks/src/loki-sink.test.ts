import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { freezeLabels } from '@lc/core';
import type { LogRecord, WriteResult } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { Registry } from 'prom-client';
import { compressSync } from 'snappy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePushRequest } from './internal/loki-proto.js';
import { createLokiSink } from './loki-sink.js';
import type { LokiSinkOptions } from './loki-sink.js';
import { createLokiTestServer } from './testing/loki-test-server.js';
import type {
  LokiTestServer,
  LokiTestServerOptions,
} from './testing/loki-test-server.js';

const signal = new AbortController().signal;
const NOW = Date.now();

function rec(
  line: string,
  labels: Record<string, string>,
  ms = NOW,
  nanos = 0,
  metadata?: Record<string, string>,
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

function ns(ms: number, nanos: number): string {
  return (BigInt(ms) * 1_000_000n + BigInt(nanos)).toString();
}

function failedIndexes(result: WriteResult): number[] {
  return result.status === 'partial' ? result.failed.map((f) => f.index) : [];
}

describeSinkContract('loki (protobuf)', async () => {
  const server = await createLokiTestServer();
  return {
    sink: createLokiSink({ url: server.url }),
    // What a forward Loki query returns: entries by timestamp.
    readBack: async () =>
      server
        .entries()
        .sort((a, b) =>
          BigInt(a.timestampNs) < BigInt(b.timestampNs) ? -1 : 1,
        )
        .map((e) => e.line),
    cleanup: () => server.close(),
  };
});

describeSinkContract('loki (json+gzip)', async () => {
  const server = await createLokiTestServer();
  return {
    sink: createLokiSink({ url: server.url, encoding: 'json', gzip: true }),
    readBack: async () =>
      server
        .entries()
        .sort((a, b) =>
          BigInt(a.timestampNs) < BigInt(b.timestampNs) ? -1 : 1,
        )
        .map((e) => e.line),
    cleanup: () => server.close(),
  };
});

describe('createLokiSink', () => {
  let server: LokiTestServer;
  const sinks: Array<{ shutdown(): Promise<void> }> = [];
  const make = async (
    opts: Partial<LokiSinkOptions> = {},
    serverOpts: LokiTestServerOptions = {},
  ) => {
    server = await createLokiTestServer(serverOpts);
    const sink = createLokiSink({ url: server.url, ...opts });
    sinks.push(sink);
    return sink;
  };
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.shutdown();
    await server?.close();
  });

  describe('options', () => {
    it('should throw LC_ERR_INVALID_OPTION naming a bad url', () => {
      expect(() => createLokiSink({ url: 'ftp://x' })).toThrow(
        /url must be an http/,
      );
      expect(() =>
        createLokiSink({ url: 'http://x', maxRequestBytes: 0 }),
      ).toThrow(/maxRequestBytes/);
      expect(() =>
        createLokiSink({ url: 'http://x', encoding: 'xml' as never }),
      ).toThrow(/encoding/);
    });
  });

  describe('write', () => {
    it('should push exact streams, labels, nanosecond timestamps and order', async () => {
      const sink = await make();
      const batch = [
        rec('b2', { job: 'b' }, NOW + 5, 1),
        rec('a1', { job: 'a', env: 'prod' }, NOW, 999_999),
        rec('b1', { job: 'b' }, NOW + 1, 5),
        rec('a2', { env: 'prod', job: 'a' }, NOW, 999_999),
        rec('a3', { job: 'a', env: 'prod' }, NOW - 3, 7),
      ];
      expect(await sink.write(batch, { signal })).toEqual({
        status: 'success',
      });
      expect(server.requests).toHaveLength(1);
      const push = server.requests[0]!;
      expect(push.contentType).toBe('application/x-protobuf');
      expect(push.streams).toEqual([
        {
          labels: '{job="b"}',
          entries: [
            { timestampNs: ns(NOW + 1, 5), line: 'b1', structuredMetadata: {} },
            { timestampNs: ns(NOW + 5, 1), line: 'b2', structuredMetadata: {} },
          ],
        },
        {
          labels: '{env="prod", job="a"}',
          entries: [
            { timestampNs: ns(NOW - 3, 7), line: 'a3', structuredMetadata: {} },
            // Equal timestamps stay distinct and in batch order.
            {
              timestampNs: ns(NOW, 999_999),
              line: 'a1',
              structuredMetadata: {},
            },
            {
              timestampNs: ns(NOW, 999_999),
              line: 'a2',
              structuredMetadata: {},
            },
          ],
        },
      ]);
      expect(
        server
          .entries()
          .map((e) => e.line)
          .sort(),
      ).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    });

    it('should send structured metadata, static labels, sanitised names and a fallback label', async () => {
      const sink = await make({
        staticLabels: { cluster: 'c1' },
        fallbackLabels: { job: 'none' },
      });
      await sink.write(
        [
          rec(
            'x',
            { 'app.kubernetes/name': 'web', '1st': 'v', empty: '' },
            NOW,
            0,
            { trace_id: 't1' },
          ),
        ],
        { signal },
      );
      expect(server.requests[0]!.streams[0]).toEqual({
        labels: '{_1st="v", app_kubernetes_name="web", cluster="c1"}',
        entries: [
          {
            timestampNs: ns(NOW, 0),
            line: 'x',
            structuredMetadata: { trace_id: 't1' },
          },
        ],
      });
      const bare = await make({ fallbackLabels: { job: 'none' } });
      await bare.write([rec('y', {})], { signal });
      expect(server.requests[0]!.streams[0]!.labels).toBe('{job="none"}');
    });

    it('should move labels outside the allow-list to structured metadata, or drop them', async () => {
      const registry = new Registry();
      const sink = await make({ labelAllowList: ['job'], registry });
      await sink.write([rec('x', { job: 'a', pod: 'p-123' })], { signal });
      expect(server.requests[0]!.streams[0]).toMatchObject({
        labels: '{job="a"}',
        entries: [{ structuredMetadata: { pod: 'p-123' } }],
      });
      expect(
        await registry.getSingleMetricAsString('lc_sink_labels_total'),
      ).toMatch(/action="metadata",reason="allow_list"} 1/);
      const dropping = await make({
        labelAllowList: ['job'],
        excessLabels: 'drop',
      });
      await dropping.write([rec('x', { job: 'a', pod: 'p-123' })], { signal });
      expect(
        server.requests[0]!.streams[0]!.entries[0]!.structuredMetadata,
      ).toEqual({});
    });

    it('should fold streams beyond maxStreams into coarser ones', async () => {
      const sink = await make({ maxStreams: 2, staticLabels: { job: 'j' } });
      const batch = ['a', 'b', 'c', 'd'].map((pod) => rec(pod, { pod }));
      expect((await sink.write(batch, { signal })).status).toBe('success');
      const streams = server.requests[0]!.streams;
      expect(streams.map((s) => s.labels)).toEqual([
        '{job="j", pod="a"}',
        '{job="j", pod="b"}',
        '{job="j"}',
      ]);
      expect(
        streams[2]!.entries.map((e) => [e.line, e.structuredMetadata]),
      ).toEqual([
        ['c', { pod: 'c' }],
        ['d', { pod: 'd' }],
      ]);
    });

    it('should send tenant, basic auth and custom headers', async () => {
      const sink = await make(
        {
          tenant: 'team-a',
          basicAuth: { username: 'u', password: 'p' },
          headers: { 'x-extra': '1' },
        },
        {
          requireTenant: true,
          expectAuthorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
        },
      );
      expect(
        (await sink.write([rec('x', { job: 'a' })], { signal })).status,
      ).toBe('success');
      expect(server.requests[0]!.headers['x-extra']).toBe('1');
      expect(server.entries('team-a')).toHaveLength(1);
    });

    it('should route records to the tenant named by tenantLabel, one request per tenant', async () => {
      const sink = await make({ tenantLabel: 'tenant', tenant: 'default' });
      await sink.write(
        [
          rec('1', { job: 'a', tenant: 't1' }),
          rec('2', { job: 'a', tenant: 't2' }),
          rec('3', { job: 'a' }),
        ],
        { signal },
      );
      expect(server.requests.map((r) => r.tenant).sort()).toEqual([
        'default',
        't1',
        't2',
      ]);
      expect(server.entries('t1').map((e) => [e.line, e.labels])).toEqual([
        ['1', '{job="a"}'],
      ]);
    });

    it('should send a bearer token and report 401 as an auth failure', async () => {
      const sink = await make(
        { bearerToken: 'wrong' },
        { expectAuthorization: 'Bearer right' },
      );
      const result = await sink.write([rec('x', { job: 'a' })], { signal });
      expect(result.status).toBe('failure');
      if (result.status === 'failure') {
        expect(result.error.code).toBe('LC_ERR_SINK_AUTH');
        expect(result.error.message).toMatch(/credentials/);
      }
    });

    it('should report only the too-old entries as failed and keep the valid ones stored once', async () => {
      const sink = await make({}, { rejectOldSamplesMaxAgeMs: 3_600_000 });
      const old = NOW - 2 * 3_600_000;
      const batch = [
        rec('ok1', { job: 'a' }, NOW),
        rec('old1', { job: 'a' }, old),
        rec('ok2', { job: 'b' }, NOW + 1),
        rec('old2', { job: 'b' }, old + 5),
      ];
      const result = await sink.write(batch, { signal });
      expect(result.status).toBe('partial');
      expect(failedIndexes(result)).toEqual([1, 3]);
      if (result.status === 'partial') {
        expect(
          result.failed.every(
            (f) => !f.retryable && f.error.code === 'LC_ERR_SINK_REJECTED',
          ),
        ).toBe(true);
        expect(result.failed[0]!.error.message).toMatch(/timestamp too old/);
      }
      expect(server.requests[0]!.status).toBe(400);
      expect(
        server
          .entries()
          .map((e) => e.line)
          .sort(),
      ).toEqual(['ok1', 'ok2']);
    });

    it('should find several kinds of bad entries over confirm rounds', async () => {
      const sink = await make(
        {},
        { rejectOldSamplesMaxAgeMs: 3_600_000, maxLineSizeBytes: 100 },
      );
      const batch = [
        rec('long'.repeat(50), { job: 'a' }),
        rec('old', { job: 'a' }, NOW - 7_200_000),
        rec('fine', { job: 'a' }),
      ];
      const result = await sink.write(batch, { signal });
      expect(failedIndexes(result)).toEqual([0, 1]);
      expect(server.requests.map((r) => r.status)).toEqual([400, 400, 204]);
      expect(server.entries().map((e) => e.line)).toEqual(['fine']);
    });

    it('should report unconfirmed entries retryable after maxConfirmRounds', async () => {
      const sink = await make(
        { maxConfirmRounds: 0 },
        { maxLineSizeBytes: 10 },
      );
      const result = await sink.write(
        [rec('x'.repeat(20), { job: 'a' }), rec('y', { job: 'a' })],
        { signal },
      );
      expect(result.status).toBe('partial');
      if (result.status === 'partial') {
        expect(result.failed.map((f) => [f.index, f.retryable])).toEqual([
          [0, false],
          [1, true],
        ]);
      }
      expect(server.entries().map((e) => e.line)).toEqual(['y']);
    });

    it('should drop out-of-order entries when outOfOrder is drop', async () => {
      const sink = await make(
        { outOfOrder: 'drop' },
        { rejectOldSamplesMaxAgeMs: 3_600_000 },
      );
      const result = await sink.write(
        [rec('old', { job: 'a' }, NOW - 7_200_000), rec('new', { job: 'a' })],
        { signal },
      );
      expect(result.status).toBe('success');
      expect(server.entries().map((e) => e.line)).toEqual(['new']);
    });

    it('should rewrite too-old timestamps to now and keep the original in metadata', async () => {
      const old = NOW - 7_200_000;
      const sink = await make(
        { outOfOrder: 'rewrite' },
        { rejectOldSamplesMaxAgeMs: 3_600_000 },
      );
      const result = await sink.write(
        [rec('old', { job: 'a' }, old, 42), rec('new', { job: 'a' })],
        { signal },
      );
      expect(result.status).toBe('success');
      const stored = server.entries().find((e) => e.line === 'old');
      expect(stored?.structuredMetadata).toEqual({
        lc_original_timestamp: ns(old, 42),
      });
      expect(BigInt(stored!.timestampNs)).toBeGreaterThanOrEqual(
        BigInt(NOW) * 1_000_000n,
      );
    });

    it('should fail every entry of a 400 whose text it does not recognise', async () => {
      const sink = await make();
      server.respondWith({ status: 400, body: 'something new went wrong' });
      const result = await sink.write(
        [rec('a', { job: 'a' }), rec('b', { job: 'a' })],
        { signal },
      );
      expect(result.status).toBe('failure');
      if (result.status === 'failure')
        expect(result.error.message).toMatch(/something new/);
    });

    it('should fail a stream with too many labels and deliver the others', async () => {
      const sink = await make({}, { maxLabelNamesPerSeries: 2 });
      const result = await sink.write(
        [rec('wide', { a: '1', b: '2', c: '3' }), rec('narrow', { a: '1' })],
        { signal },
      );
      expect(failedIndexes(result)).toEqual([0]);
      expect(server.entries().map((e) => e.line)).toEqual(['narrow']);
    });

    it('should classify 429 with and without Retry-After as retryable', async () => {
      const sink = await make();
      server.respondWith(
        {
          status: 429,
          body: 'Ingestion rate limit exceeded',
          headers: { 'retry-after': '7' },
        },
        { status: 429, body: 'Ingestion rate limit exceeded' },
      );
      const first = await sink.write([rec('a', { job: 'a' })], { signal });
      expect(first).toMatchObject({
        status: 'retryable',
        retryAfterMs: 7000,
        error: { code: 'LC_ERR_SINK_RATE_LIMITED' },
      });
      const second = await sink.write([rec('a', { job: 'a' })], { signal });
      expect(second.status).toBe('retryable');
      expect(second).not.toHaveProperty('retryAfterMs');
    });

    it('should answer 429 like Loki for an oversized request', async () => {
      const sink = await make({}, { maxRequestLineBytes: 10 });
      const result = await sink.write([rec('x'.repeat(50), { job: 'a' })], {
        signal,
      });
      expect(result).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_SINK_RATE_LIMITED' },
      });
      if (result.status === 'retryable')
        expect(result.error.message).toMatch(
          /Ingestion rate limit exceeded for user fake/,
        );
    });

    it('should classify 500 and 503 retryable, 501 and 404 failures, 404 retryable when configured', async () => {
      const sink = await make();
      server.respondWith(
        { status: 500, body: 'context canceled' },
        { status: 503 },
        { status: 501 },
        { status: 404 },
      );
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push(
          (await sink.write([rec('a', { job: 'a' })], { signal })).status,
        );
      expect(statuses).toEqual([
        'retryable',
        'retryable',
        'failure',
        'failure',
      ]);
      const proxied = createLokiSink({ url: server.url, retryOn404: true });
      sinks.push(proxied);
      server.respondWith({ status: 404 });
      expect(
        (await proxied.write([rec('a', { job: 'a' })], { signal })).status,
      ).toBe('retryable');
    });

    it('should resolve retryable LC_ERR_TIMEOUT when Loki is slow', async () => {
      const sink = await make({ requestTimeoutMs: 200 });
      server.respondWith({ status: 204, delayMs: 1500, ingest: true });
      const result = await sink.write([rec('a', { job: 'a' })], { signal });
      expect(result).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_TIMEOUT' },
      });
      // Slow but within the timeout: success.
      server.respondWith({ status: 204, delayMs: 300, ingest: true });
      const ok = createLokiSink({ url: server.url, requestTimeoutMs: 5000 });
      sinks.push(ok);
      expect(
        (await ok.write([rec('b', { job: 'a' })], { signal })).status,
      ).toBe('success');
    });

    it('should resolve retryable LC_ERR_ABORTED when the signal aborts mid-request', async () => {
      const sink = await make();
      server.respondWith({ status: 204, delayMs: 2000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const result = await sink.write([rec('a', { job: 'a' })], {
        signal: controller.signal,
      });
      expect(result).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_ABORTED' },
      });
    });

    it('should resolve retryable when the connection is reset or refused', async () => {
      const sink = await make();
      server.respondWith({ status: 0, destroy: true });
      expect(
        await sink.write([rec('a', { job: 'a' })], { signal }),
      ).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_SINK_UNAVAILABLE' },
      });
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((r) => probe.close(r));
      const refused = createLokiSink({ url: `http://127.0.0.1:${port}` });
      sinks.push(refused);
      expect(
        await refused.write([rec('a', { job: 'a' })], { signal }),
      ).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_SINK_UNAVAILABLE' },
      });
    });

    it('should split batches over maxRequestBytes and fail records that never fit', async () => {
      const sink = await make({ maxRequestBytes: 2000 });
      const batch = Array.from({ length: 40 }, (_, i) =>
        rec(`${i}`.padEnd(100, '.'), { job: `j${i % 3}` }, NOW + i),
      );
      batch.push(rec('huge'.repeat(1000), { job: 'j0' }));
      const result = await sink.write(batch, { signal });
      expect(failedIndexes(result)).toEqual([40]);
      if (result.status === 'partial')
        expect(result.failed[0]!.error.code).toBe('LC_ERR_RECORD_TOO_LARGE');
      expect(server.requests.length).toBeGreaterThan(2);
      for (const r of server.requests) {
        expect(r.status).toBe(204);
      }
      expect(
        server
          .entries()
          .map((e) => e.line)
          .sort(),
      ).toEqual(
        batch
          .slice(0, 40)
          .map((r) => r.line)
          .sort(),
      );
      // Each stream still arrives in timestamp order across requests.
      for (const entries of server.streams().values()) {
        const ts = entries.map((e) => BigInt(e.timestampNs));
        expect([...ts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
          ts,
        );
      }
    });

    it('should mark only the records of a failed sub-request when a split push fails', async () => {
      const sink = await make({ maxRequestBytes: 600 });
      const batch = Array.from({ length: 10 }, (_, i) =>
        rec(`${i}`.padEnd(100, '.'), { job: 'a' }, NOW + i),
      );
      let n = 0;
      server.setHandler(() => (++n === 2 ? { status: 503 } : undefined));
      const result = await sink.write(batch, { signal });
      expect(result.status).toBe('partial');
      if (result.status === 'partial')
        expect(result.failed.every((f) => f.retryable)).toBe(true);
      const delivered = new Set(server.entries().map((e) => e.line));
      for (const f of failedIndexes(result))
        expect(delivered.has(batch[f]!.line)).toBe(false);
      expect(delivered.size + failedIndexes(result).length).toBe(10);
    });

    it('should push JSON with a path prefix on the url', async () => {
      server = await createLokiTestServer();
      const sink = createLokiSink({ url: `${server.url}/`, encoding: 'json' });
      sinks.push(sink);
      await sink.write([rec('j', { job: 'a' }, NOW, 12, { k: 'v' })], {
        signal,
      });
      expect(server.requests[0]!.contentType).toBe('application/json');
      expect(server.requests[0]!.streams).toEqual([
        {
          labels: '{job="a"}',
          entries: [
            {
              timestampNs: ns(NOW, 12),
              line: 'j',
              structuredMetadata: { k: 'v' },
            },
          ],
        },
      ]);
    });
  });
});

describe('createLokiTestServer', () => {
  let server: LokiTestServer;
  beforeEach(async () => {
    server = await createLokiTestServer();
  });
  afterEach(() => server.close());

  it('should answer snappy: corrupt input for garbage protobuf', async () => {
    const res = await fetch(`${server.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: 'garbage',
    });
    expect(res.status).toBe(400);
    expect((await res.text()).trim()).toBe('snappy: corrupt input');
  });

  it('should reject a stream without labels and an invalid label name with Loki texts', async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const none = await post({
      streams: [{ stream: {}, values: [['1', 'x']] }],
    });
    expect([none.status, (await none.text()).trim()]).toEqual([
      400,
      'error at least one label pair is required per stream',
    ]);
    const bad = await fetch(`${server.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: compressSync(
        encodePushRequest([
          {
            labels: '{bad-name="x"}',
            entries: [
              { timestampMs: 1, timestampNanos: 0, line: 'x', index: 0 },
            ],
          },
        ]),
      ),
    });
    expect([bad.status, (await bad.text()).trim()]).toEqual([
      400,
      "1:5: parse error: unexpected character inside braces: '-'",
    ]);
    expect(server.entries()).toEqual([]);
  });
});
