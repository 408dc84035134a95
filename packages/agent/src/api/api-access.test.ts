// Who may call what, what bodies are taken, and what /health, /ready and
// /status look like: fastify inject() against a real agent (file sink,
// and a Loki sink whose endpoint is an HTTP server in the test speaking
// Loki's protobuf + snappy push format, since no Loki runs here).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import type { Agent } from '../runtime/agent.js';
import { createAgent } from '../runtime/create-agent.js';
import type { Readiness } from '../runtime/readiness.js';
import { createApiServer } from './create-api-server.js';

const TOKEN = 'api-access-token';
const auth = { authorization: `Bearer ${TOKEN}` };

let tmp: TempDir | undefined;
let loki: LokiTestServer | undefined;
let agent: Agent | undefined;
let api: FastifyInstance | undefined;

afterEach(async () => {
  await api?.close();
  await agent?.shutdown();
  await loki?.close();
  await tmp?.cleanup();
  api = agent = loki = tmp = undefined;
});

/** A started agent and its API; `sinks` is the YAML of the sinks section. */
async function start(
  sinks: (dir: string) => string,
  token: string | null = TOKEN,
): Promise<{ api: FastifyInstance; agent: Agent; dir: string }> {
  tmp = await createTempDir('lc-agent-api-access-');
  const dir = tmp.path;
  await mkdir(join(dir, 'logs'), { recursive: true });
  const config = unwrapConfig(
    parseConfig(
      `app: {data_dir: ${dir}/data}
positions: {store: memory}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
dispatcher: {batch_timeout: 20ms}
sinks: ${sinks(dir)}
`,
      { env: {} },
    ),
  );
  agent = createAgent({ config });
  await agent.start();
  api = createApiServer({
    agent,
    version: '9.9.9',
    ...(token === null ? {} : { token }),
    reload: async () => ({ applied: [], requiresRestart: [] }),
  });
  return { api, agent, dir };
}

const fileSink = (dir: string): string =>
  `{file: [{name: out, directory: ${dir}/out}]}`;

/** Every endpoint, as a request that succeeds with the token. */
const ENDPOINTS: readonly InjectOptions[] = [
  { method: 'GET', url: '/status' },
  { method: 'GET', url: '/stats' },
  { method: 'GET', url: '/positions' },
  { method: 'GET', url: '/batches' },
  { method: 'GET', url: '/config' },
  { method: 'GET', url: '/dlq' },
  { method: 'POST', url: '/dlq/replay', payload: {} },
  { method: 'POST', url: '/config/reload' },
  { method: 'POST', url: '/api/v1/logs', payload: [{ message: 'hello' }] },
];

describe('createApiServer', () => {
  describe('api.token', () => {
    it('should refuse every endpoint but /health, /ready and /metrics without the right token, and serve them with it', async () => {
      const { api } = await start(fileSink);
      for (const req of ENDPOINTS) {
        for (const headers of [
          {},
          { authorization: 'Bearer wrong-token' },
          { authorization: TOKEN },
          { authorization: `Basic ${TOKEN}` },
        ]) {
          const res = await api.inject({ ...req, headers });
          expect(res.statusCode, `${req.method} ${req.url}`).toBe(401);
          expect(res.headers['www-authenticate']).toBe('Bearer');
          expect(res.json()).toEqual({
            error: 'missing or invalid bearer token (api.token)',
          });
        }
        const ok = await api.inject({ ...req, headers: auth });
        expect(ok.statusCode, `${req.method} ${req.url}`).toBeLessThan(300);
        // The scheme is case-insensitive (RFC 9110).
        const lower = await api.inject({
          ...req,
          headers: { authorization: `bearer ${TOKEN}` },
        });
        expect(lower.statusCode, `${req.method} ${req.url}`).toBeLessThan(300);
      }
      for (const url of ['/health', '/ready', '/metrics', '/ready?x=1']) {
        expect((await api.inject({ url })).statusCode, url).toBe(200);
      }
      // What exists is not revealed without the token.
      expect((await api.inject({ url: '/nope' })).statusCode).toBe(401);
      expect(
        (await api.inject({ url: '/nope', headers: auth })).statusCode,
      ).toBe(404);
    });

    it('should serve every endpoint without a token when none is configured', async () => {
      const { api } = await start(fileSink, null);
      for (const req of ENDPOINTS)
        expect(
          (await api.inject(req)).statusCode,
          `${req.method} ${req.url}`,
        ).toBeLessThan(300);
    });
  });

  describe('POST /api/v1/logs', () => {
    it('should answer 415 naming the type for text/plain and anything but JSON or NDJSON, and take nothing', async () => {
      const { api, agent } = await start(fileSink);
      for (const type of [
        'text/plain',
        'text/plain; charset=utf-8',
        'application/xml',
        'application/x-www-form-urlencoded',
      ]) {
        const res = await api.inject({
          method: 'POST',
          url: '/api/v1/logs',
          headers: { ...auth, 'content-type': type },
          payload: '{"message":"not taken"}',
        });
        expect(res.statusCode, type).toBe(415);
        expect(res.json().error).toBe(
          `unsupported content type ${JSON.stringify(type)}: use application/json or application/x-ndjson`,
        );
      }
      expect(agent.stats().processing.processed).toBe(0);
    });

    it('should take application/json with a charset, application/x-ndjson and application/ndjson', async () => {
      const { api } = await start(fileSink);
      for (const [type, payload] of [
        ['application/json; charset=utf-8', '[{"message":"a"}]'],
        ['application/x-ndjson', '{"message":"b"}\n{"message":"c"}\n'],
        ['application/ndjson', '{"message":"d"}'],
      ] as const) {
        const res = await api.inject({
          method: 'POST',
          url: '/api/v1/logs',
          headers: { ...auth, 'content-type': type },
          payload,
        });
        expect(res.statusCode, type).toBe(202);
      }
    });

    it('should answer 503 with Retry-After once the agent stops, and take nothing', async () => {
      const { api, agent } = await start(fileSink);
      await agent.shutdown();
      const res = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: [{ message: 'late' }],
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({
        error: 'agent is stopped: retry later',
        code: 'LC_ERR_SERVICE_UNAVAILABLE',
      });
    });
  });

  describe('GET /health', () => {
    it('should report liveness with numbers as numbers', async () => {
      const { api } = await start(fileSink);
      const body = (await api.inject({ url: '/health' })).json();
      expect(body).toMatchObject({
        status: 'ok',
        version: '9.9.9',
        state: 'running',
      });
      expect(typeof body.uptimeMs).toBe('number');
    });
  });

  describe('GET /ready', () => {
    it('should be 200 with every component typed, counts as numbers', async () => {
      const { api } = await start(fileSink);
      const res = await api.inject({ url: '/ready' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual<Readiness>({
        ready: true,
        status: 'ready',
        state: 'running',
        reasons: [],
        components: {
          positions: { state: 'up' },
          dispatcher: { state: 'up', backpressure: false },
          deadLetters: { state: 'up' },
          persistence: { state: 'up' },
          sources: {
            state: 'up',
            fileGroups: 1,
            kubernetes: false,
            docker: false,
            http: true,
          },
          sinks: { out: { state: 'up', circuit: 'closed' } },
          routes: [
            { route: 'default', sinks: ['out'], state: 'up', downSinks: [] },
          ],
        },
      });
    });

    it('should stay 200 but degraded, naming the sink and its last error, while one of two sinks that take every record is down', async () => {
      loki = await createLokiTestServer();
      loki.setHandler(() => ({ status: 503, body: 'ingester not ready' }));
      const url = loki.url;
      const { api } = await start(
        (dir) =>
          `{file: [{name: out, directory: ${dir}/out}], loki: [{url: "${url}"}]}`,
      );
      const ingest = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: [{ message: 'one' }],
      });
      expect(ingest.statusCode).toBe(202);
      let body: Readiness | undefined;
      // The circuit opens after five failures in a row (backoff between).
      for (;;) {
        const res = await api.inject({ url: '/ready' });
        body = res.json<Readiness>();
        if (body.status === 'degraded') {
          expect(res.statusCode).toBe(200);
          break;
        }
        expect(res.statusCode).toBe(200);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(body.ready).toBe(true);
      expect(body.components.sinks['loki']).toMatchObject({ state: 'down' });
      expect(body.components.sinks['loki']?.reason).toMatch(
        /^circuit (open|half-open \(probing\)); last error LC_ERR_SINK_UNAVAILABLE: .*503/,
      );
      expect(body.components.routes).toEqual([
        {
          route: 'default',
          sinks: ['loki', 'out'],
          state: 'degraded',
          downSinks: ['loki'],
        },
      ]);
      expect(body.reasons).toEqual([
        expect.stringMatching(
          /^default route: degraded, records still reach a sink but not: loki \(circuit /,
        ),
      ]);
      const status = (
        await api.inject({ url: '/status', headers: auth })
      ).json<{
        sinks: Array<Record<string, unknown>>;
      }>();
      const s = status.sinks.find((x) => x['name'] === 'loki');
      expect(s).toMatchObject({
        state: 'down',
        unsettledBatches: 1,
        unsettledRecords: 1,
        delivered: 0,
        lastError: { code: 'LC_ERR_SINK_UNAVAILABLE' },
      });
      expect(s?.['oldestUnsettledAgeMs']).toBeGreaterThan(0);
      expect(status.sinks.find((x) => x['name'] === 'out')).toMatchObject({
        state: 'up',
        unsettledRecords: 0,
        delivered: 1,
      });
    });
  });
});
