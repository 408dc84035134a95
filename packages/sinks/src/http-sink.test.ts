import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpSink } from './http-sink.js';

const signal = new AbortController().signal;
const rec = (line: string, i = 0): LogRecord => ({
  line,
  labels: freezeLabels({ job: 'a' }),
  timestampMs: 1_700_000_000_000 + i,
  timestampNanos: 42,
  source: { kind: 'file', id: 'f' },
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

async function startServer(
  answer: (req: Received, res: ServerResponse) => void = (_, res) =>
    res.writeHead(200).end(),
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body =
        req.headers['content-encoding'] === 'gzip'
          ? gunzipSync(raw).toString()
          : raw.toString();
      const r = { headers: req.headers, body };
      received.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    received,
    server,
  };
}

describeSinkContract('http (ndjson)', async () => {
  const { url, received, server } = await startServer();
  return {
    sink: createHttpSink({ url, gzip: true }),
    readBack: async () =>
      received.flatMap((r) =>
        r.body
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (JSON.parse(l) as { line: string }).line),
      ),
    cleanup: () =>
      new Promise<void>((resolve) => server.close(() => resolve())),
  };
});

describe('createHttpSink', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
  });

  describe('write', () => {
    it('should post NDJSON with auth and headers and split over maxRequestBytes', async () => {
      const s = await startServer();
      server = s.server;
      const sink = createHttpSink({
        url: s.url,
        bearerToken: 'tok',
        headers: { 'x-k': 'v' },
        maxRequestBytes: 400,
      });
      const batch = Array.from({ length: 6 }, (_, i) => rec(`line-${i}`, i));
      expect(await sink.write(batch, { signal })).toEqual({
        status: 'success',
      });
      expect(s.received.length).toBeGreaterThan(1);
      expect(s.received[0]!.headers.authorization).toBe('Bearer tok');
      expect(s.received[0]!.headers['x-k']).toBe('v');
      const lines = s.received.flatMap((r) =>
        r.body
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { line: string; timestamp: string }),
      );
      expect(lines.map((l) => l.line)).toEqual(batch.map((r) => r.line));
      expect(lines[0]!.timestamp).toBe('2023-11-14T22:13:20.000000042Z');
      await sink.shutdown();
    });

    it('should classify statuses like Loki', async () => {
      const statuses = [429, 503, 501, 400, 401];
      const s = await startServer((_, res) => {
        const status = statuses.shift() ?? 200;
        res
          .writeHead(status, status === 429 ? { 'retry-after': '2' } : {})
          .end('nope');
      });
      server = s.server;
      const sink = createHttpSink({ url: s.url });
      const results = [];
      for (let i = 0; i < 5; i++)
        results.push(await sink.write([rec('x')], { signal }));
      expect(
        results.map((r) => [r.status, 'error' in r ? r.error.code : undefined]),
      ).toEqual([
        ['retryable', 'LC_ERR_SINK_RATE_LIMITED'],
        ['retryable', 'LC_ERR_SINK_UNAVAILABLE'],
        ['failure', 'LC_ERR_SINK_REJECTED'],
        ['failure', 'LC_ERR_SINK_REJECTED'],
        ['failure', 'LC_ERR_SINK_AUTH'],
      ]);
      expect(results[0]).toMatchObject({ retryAfterMs: 2000 });
      await sink.shutdown();
    });

    it('should send an Elasticsearch bulk body and report failed items per record', async () => {
      const s = await startServer((r, res) => {
        const docs = r.body.split('\n').filter(Boolean).length / 2;
        const items = Array.from({ length: docs }, (_, i) => ({
          create:
            i === 1
              ? {
                  status: 400,
                  error: { type: 'mapper_parsing_exception', reason: 'bad' },
                }
              : i === 2
                ? {
                    status: 429,
                    error: { type: 'es_rejected_execution_exception' },
                  }
                : { status: 201 },
        }));
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: true, items }));
      });
      server = s.server;
      const sink = createHttpSink({
        url: s.url,
        format: 'elasticsearch',
        index: 'logs-lc',
      });
      const result = await sink.write(
        [rec('a'), rec('b'), rec('c'), rec('d')],
        { signal },
      );
      expect(result).toMatchObject({
        status: 'partial',
        failed: [
          {
            index: 1,
            retryable: false,
            error: { code: 'LC_ERR_SINK_REJECTED' },
          },
          {
            index: 2,
            retryable: true,
            error: { code: 'LC_ERR_SINK_RATE_LIMITED' },
          },
        ],
      });
      const lines = s.received[0]!.body.split('\n').filter(Boolean);
      expect(JSON.parse(lines[0]!)).toEqual({ create: { _index: 'logs-lc' } });
      expect(JSON.parse(lines[1]!)).toMatchObject({
        '@timestamp': '2023-11-14T22:13:20.000000042Z',
        line: 'a',
        labels: { job: 'a' },
      });
      await sink.shutdown();
    });
  });
});
