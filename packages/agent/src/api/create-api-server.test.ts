import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LcError } from '@lc/core';
import {
  formatConfigIssues,
  loadConfigFile,
  unwrapConfig,
  parseConfig,
} from '../config/load-config.js';
import type { Agent } from '../runtime/agent.js';
import { createAgent } from '../runtime/create-agent.js';
import { createApiServer } from './create-api-server.js';

function yamlFor(dir: string, extra = '', sinkName = 'out'): string {
  return `app: {data_dir: ${dir}/data}
api: {max_body_bytes: 4KiB, max_records_per_request: 5}
positions: {store: memory}
sources:
  files: [{include: ["${dir}/logs/*.log"]}]
  http: {labels: {via: http}}
dispatcher: {batch_timeout: 50ms}
sinks:
  file: [{name: ${sinkName}, directory: ${dir}/out, path_template: "{source_kind}.log", password: x}]
${extra}`;
}

async function readOut(
  dir: string,
): Promise<{ line: string; labels: Record<string, string> }[]> {
  const files = await readdir(join(dir, 'out')).catch(() => [] as string[]);
  const rows = [];
  for (const f of files) {
    const text = await readFile(join(dir, 'out', f), 'utf8');
    for (const l of text.split('\n'))
      if (l !== '')
        rows.push(
          JSON.parse(l) as { line: string; labels: Record<string, string> },
        );
  }
  return rows;
}

async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('createApiServer', () => {
  let tmp: TempDir;
  let agent: Agent;
  let api: FastifyInstance;
  const TOKEN = 's3cret-token';

  beforeEach(async () => {
    tmp = await createTempDir('lc-agent-api-');
    await writeFile(
      join(tmp.path, 'agent.yaml'),
      yamlFor(tmp.path).replace(', password: x', ''),
    );
    const config = unwrapConfig(
      await loadConfigFile(join(tmp.path, 'agent.yaml'), { env: {} }),
    );
    agent = createAgent({ config });
    await agent.start();
    api = createApiServer({
      agent,
      version: '1.2.3',
      token: TOKEN,
      maxBodyBytes: config.api.max_body_bytes,
      maxRecordsPerRequest: config.api.max_records_per_request,
      reload: async () => {
        const r = await loadConfigFile(join(tmp.path, 'agent.yaml'), {
          env: {},
        });
        if (!r.ok) {
          throw new LcError({
            code: 'LC_ERR_CONFIG',
            message: formatConfigIssues(r.issues),
            details: { issues: r.issues },
          });
        }
        return agent.reload(r.config);
      },
    });
  });

  afterEach(async () => {
    await api.close();
    await agent.shutdown();
    await tmp.cleanup();
  });

  const auth = { authorization: `Bearer ${TOKEN}` };

  describe('POST /api/v1/logs', () => {
    it('should reject ingest without the bearer token', async () => {
      const res = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        payload: [{ message: 'x' }],
      });
      expect(res.statusCode).toBe(401);
      const wrong = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: { authorization: 'Bearer nope' },
        payload: [{ message: 'x' }],
      });
      expect(wrong.statusCode).toBe(401);
    });

    it('should accept a JSON array and NDJSON and deliver them to the sink', async () => {
      const a = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: [
          { message: 'one', labels: { app: 'x' } },
          { line: 'two', timestamp: '2026-11-23T10:00:00.5Z' },
        ],
      });
      expect(a.statusCode).toBe(202);
      expect(a.json()).toEqual({ accepted: 2 });
      const b = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: { ...auth, 'content-type': 'application/x-ndjson' },
        payload: '{"message":"three"}\n\n{"message":"four"}\n',
      });
      expect(b.statusCode).toBe(202);
      await eventually(async () => (await readOut(tmp.path)).length === 4);
      const rows = await readOut(tmp.path);
      expect(rows.map((r) => r.line).sort()).toEqual([
        'four',
        'one',
        'three',
        'two',
      ]);
      expect(rows.find((r) => r.line === 'one')?.labels).toMatchObject({
        via: 'http',
        app: 'x',
      });
    });

    it('should answer 400 with the path of every malformed entry and ingest nothing', async () => {
      const res = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: [
          { message: 'ok' },
          { msg: 'x' },
          { message: 'y', labels: { a: 1 } },
          { message: 'z', timestamp: 'noon' },
        ],
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([
        '[1].message: expected a string, got nothing',
        '[2].labels: expected a map of strings',
        '[3].timestamp: expected RFC 3339 or epoch milliseconds, got "noon"',
      ]);
      const bad = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '[{"message":',
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/invalid JSON body/);
      const nd = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: { ...auth, 'content-type': 'application/x-ndjson' },
        payload: '{"message":"a"}\n{oops\n',
      });
      expect(nd.statusCode).toBe(400);
      expect(nd.json().error).toMatch(/^line 2: invalid JSON/);
      await new Promise((r) => setTimeout(r, 300));
      expect(await readOut(tmp.path)).toEqual([]);
    });

    it('should answer 413 for too large bodies and too many records', async () => {
      const big = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: [{ message: 'x'.repeat(5000) }],
      });
      expect(big.statusCode).toBe(413);
      expect(big.json().error).toBe(
        'request body larger than 4096 bytes (api.max_body_bytes)',
      );
      const many = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: Array.from({ length: 6 }, () => ({ message: 'x' })),
      });
      expect(many.statusCode).toBe(413);
      expect(many.json().error).toBe(
        'too many records: 6 > 5 (api.max_records_per_request)',
      );
    });

    it('should answer 415 for other content types', async () => {
      const res = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: { ...auth, 'content-type': 'application/xml' },
        payload: '<x/>',
      });
      expect(res.statusCode).toBe(415);
    });
  });

  describe('GET /status, /positions, /stats, /metrics', () => {
    it('should show a tailed file with its committed position and count it in metrics', async () => {
      await appendFile(join(tmp.path, 'logs', 'a.log'), 'alpha\nbeta\n').catch(
        async () => {
          const { mkdir } = await import('node:fs/promises');
          await mkdir(join(tmp.path, 'logs'), { recursive: true });
          await appendFile(join(tmp.path, 'logs', 'a.log'), 'alpha\nbeta\n');
        },
      );
      await eventually(async () => (await readOut(tmp.path)).length === 2);
      await eventually(async () => {
        const status = (
          await api.inject({ url: '/status', headers: auth })
        ).json() as {
          files: { path: string; committedOffset: number }[];
        };
        return status.files.some(
          (f) => f.path.endsWith('a.log') && f.committedOffset === 11,
        );
      });
      const positions = (
        await api.inject({ url: '/positions', headers: auth })
      ).json() as {
        positions: { kind: string; offset?: number }[];
      };
      expect(
        positions.positions.some((p) => p.kind === 'file' && p.offset === 11),
      ).toBe(true);
      const stats = (
        await api.inject({ url: '/stats', headers: auth })
      ).json() as {
        sinks: string[];
        processing: { processed: number };
      };
      expect(stats.sinks).toEqual(['out']);
      expect(stats.processing.processed).toBeGreaterThanOrEqual(2);
      const metrics = await api.inject({ url: '/metrics' });
      expect(metrics.headers['content-type']).toMatch(/text\/plain/);
      expect(metrics.body).toMatch(/^lc_positions_total\{kind="file"\} 1$/m);
      expect(metrics.body).toMatch(/^process_cpu_user_seconds_total/m);
    });
  });

  describe('GET /config', () => {
    it('should redact secrets', async () => {
      const config = unwrapConfig(
        parseConfig(
          `sinks: {loki: [{url: "http://user:pw@loki:3100", password: hunter2, bearer_token: t, headers: {X-Key: k}}]}`,
          { env: {} },
        ),
      );
      const other = createAgent({ config });
      const server = createApiServer({ agent: other, version: '0' });
      const body = JSON.stringify(
        (await server.inject({ url: '/config' })).json(),
      );
      expect(body).not.toMatch(/hunter2|"t"|:pw@|"k"/);
      expect(body).toContain('[REDACTED]');
      await server.close();
    });
  });

  describe('GET /dlq and POST /dlq/replay', () => {
    it('should list dead letters and replay them into the live sink', async () => {
      const store = agent.deadLetters;
      expect(store).toBeDefined();
      await store?.add([
        {
          record: {
            line: 'dead one',
            labels: {},
            source: { kind: 'http', id: 'h' },
            timestampMs: Date.now(),
            timestampNanos: 0,
          },
          sink: 'out',
          reason: { code: 'LC_ERR_SINK_REJECTED', message: 'bad' },
          attempts: 3,
          firstFailureAtMs: Date.now(),
          lastFailureAtMs: Date.now(),
        },
      ]);
      const list = (
        await api.inject({ url: '/dlq', headers: auth })
      ).json() as {
        total: number;
        entries: { sink: string }[];
      };
      expect(list).toMatchObject({ total: 1, limit: 100, offset: 0 });
      expect(list.entries[0]?.sink).toBe('out');
      expect(
        (await api.inject({ method: 'POST', url: '/dlq/replay', payload: {} }))
          .statusCode,
      ).toBe(401);
      const replay = await api.inject({
        method: 'POST',
        url: '/dlq/replay',
        headers: auth,
        payload: { sink: 'out' },
      });
      expect(replay.statusCode).toBe(200);
      expect(replay.json()).toEqual({ replayed: 1, failed: 0 });
      await eventually(async () =>
        (await readOut(tmp.path)).some((r) => r.line === 'dead one'),
      );
      const unknown = await api.inject({
        method: 'POST',
        url: '/dlq/replay',
        headers: auth,
        payload: { sink: 'nope' },
      });
      expect(unknown.statusCode).toBe(400);
    });
  });

  describe('GET /batches', () => {
    it('should list pending batches (empty without persistence)', async () => {
      expect(
        (await api.inject({ url: '/batches', headers: auth })).json(),
      ).toEqual({ batches: [] });
    });
  });

  describe('POST /config/reload', () => {
    it('should reject a bad config with every issue and keep the running one', async () => {
      await writeFile(
        join(tmp.path, 'agent.yaml'),
        yamlFor(tmp.path)
          .replace(', password: x', '')
          .replace('batch_timeout: 50ms', 'batch_timeout: 50ms, workerz: 1'),
      );
      const res = await api.inject({
        method: 'POST',
        url: '/config/reload',
        headers: auth,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'dispatcher.workerz' }),
        ]),
      );
      expect(agent.stats().sinks).toEqual(['out']);
      const ingest = await api.inject({
        method: 'POST',
        url: '/api/v1/logs',
        headers: auth,
        payload: [{ message: 'still running' }],
      });
      expect(ingest.statusCode).toBe(202);
      await eventually(async () =>
        (await readOut(tmp.path)).some((r) => r.line === 'still running'),
      );
    });

    it('should apply a changed sink live', async () => {
      await writeFile(
        join(tmp.path, 'agent.yaml'),
        yamlFor(tmp.path, '', 'renamed').replace(', password: x', ''),
      );
      expect(
        (await api.inject({ method: 'POST', url: '/config/reload' }))
          .statusCode,
      ).toBe(401);
      const res = await api.inject({
        method: 'POST',
        url: '/config/reload',
        headers: auth,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        status: 'reloaded',
        applied: expect.arrayContaining(['sinks']),
      });
      expect(agent.stats().sinks).toEqual(['renamed']);
    });
  });

  describe('listen', () => {
    it('should serve over a real socket on 127.0.0.1', async () => {
      const address = await api.listen({ host: '127.0.0.1', port: 0 });
      const res = await fetch(`${address}/health`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { version: string }).version).toBe('1.2.3');
    });
  });
});
