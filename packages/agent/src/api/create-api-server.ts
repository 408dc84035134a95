import type { Logger } from '@lc/core';
import { LcError } from '@lc/core';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { ConfigIssue } from '../config/load-config.js';
import type { Agent, ReloadResult } from '../runtime/agent.js';
import { bearerAuth } from './bearer-auth.js';
import { parseIngest } from './parse-ingest.js';
import { redactSecrets } from '../config/redact-secrets.js';

/** Options for {@link createApiServer}. */
export interface ApiServerOptions {
  /** The running agent. */
  agent: Agent;
  /** Agent version for /health. */
  version: string;
  /**
   * Bearer token required on every endpoint but `/health`, `/ready` and
   * `/metrics`. @default none (only safe on loopback)
   */
  token?: string;
  /** Largest accepted request body in bytes. @default 1 MiB */
  maxBodyBytes?: number;
  /** Most records per ingest request. @default 10000 */
  maxRecordsPerRequest?: number;
  /** Serve /metrics. @default true */
  metrics?: boolean;
  /**
   * Re-read and validate the config, then apply it. Resolves the applied
   * sections or rejects with `LC_ERR_CONFIG` carrying `details.issues`.
   * @default reload unsupported (503)
   */
  reload?: () => Promise<ReloadResult>;
  /** Where fastify logs go. @default none */
  logger?: Logger;
  /**
   * The environment the config was substituted from: values of
   * secret-looking variables are redacted from `/config` wherever they
   * landed. @default none
   */
  env?: Readonly<Record<string, string | undefined>>;
}

const MiB = 1024 * 1024;
/** Ingest bodies accepted besides JSON (one entry per line). */
const NDJSON = ['application/x-ndjson', 'application/ndjson'];
/** Most dead letters one `GET /dlq` returns. */
const MAX_DLQ_PAGE = 1000;

/** A non-negative integer query parameter (or its default), or an error naming it. */
function intParam(
  name: string,
  text: string | undefined,
  fallback: number,
): { value: number; error?: undefined } | { error: string } {
  if (text === undefined) return { value: fallback };
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n)
    ? { value: n }
    : {
        error: `${name}: expected a non-negative integer, got ${JSON.stringify(text)}`,
      };
}

function errorBody(error: unknown): { error: string; code?: string } {
  if (LcError.isInstance(error))
    return { error: error.message, code: error.code };
  return { error: error instanceof Error ? error.message : String(error) };
}

/**
 * The agent's HTTP API (fastify). Not listening until `listen()` is called
 * on the returned instance; `inject()` works without a socket.
 */
export function createApiServer(options: ApiServerOptions): FastifyInstance {
  const { agent } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MiB;
  const maxRecords = options.maxRecordsPerRequest ?? 10_000;
  const app = Fastify({ bodyLimit: maxBodyBytes, logger: false });

  // Only JSON and NDJSON bodies: anything else (text/plain included, which
  // fastify parses by default) is 415.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    NDJSON,
    { parseAs: 'string', bodyLimit: maxBodyBytes },
    (_req, body, done) => done(null, body),
  );
  if (options.token !== undefined)
    app.addHook('onRequest', bearerAuth(options.token));

  app.setErrorHandler(
    (
      error: { code?: string; statusCode?: number; message: string },
      req,
      reply,
    ) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply.code(413).send({
          error: `request body larger than ${maxBodyBytes} bytes (api.max_body_bytes)`,
        });
      }
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return reply.code(415).send({
          error: `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: use application/json or application/x-ndjson`,
        });
      }
      if (
        error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
        error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
        error instanceof SyntaxError
      ) {
        return reply
          .code(400)
          .send({ error: `invalid JSON body: ${error.message}` });
      }
      const status =
        error.statusCode !== undefined && error.statusCode >= 400
          ? error.statusCode
          : 500;
      options.logger?.error({ err: error }, 'api error');
      return reply.code(status).send(errorBody(error));
    },
  );

  app.get('/health', async () => ({
    status: 'ok',
    version: options.version,
    state: agent.state,
    uptimeMs: agent.stats().uptimeMs,
  }));

  app.get('/ready', async (_req, reply) => {
    const r = agent.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });

  app.get('/status', async () => {
    const now = Date.now();
    const { sinks, routes, files, containers, kubernetes, positions, buffer } =
      agent.status();
    return {
      sinks,
      routes,
      files: files.map((f) => ({
        ...f,
        lagSeconds:
          f.lagBytes > 0 && f.lastReadAtMs > 0
            ? Math.max(0, (now - f.lastReadAtMs) / 1000)
            : 0,
      })),
      containers,
      kubernetes,
      positions,
      buffer,
    };
  });

  app.get('/stats', async () => agent.stats());
  app.get('/positions', async () => ({ positions: agent.positions() }));
  app.get('/batches', async () => ({ batches: agent.batches() }));
  app.get('/config', async () =>
    redactSecrets(agent.config, {
      ...(options.env === undefined ? {} : { env: options.env }),
    }),
  );

  app.get<{
    Querystring: {
      limit?: string;
      offset?: string;
      sink?: string;
      code?: string;
    };
  }>('/dlq', async (req, reply) => {
    const store = agent.deadLetters;
    if (store === undefined)
      return reply
        .code(503)
        .send({ error: 'the dead-letter queue is disabled (dlq.enabled)' });
    const limit = intParam('limit', req.query.limit, 100);
    const offset = intParam('offset', req.query.offset, 0);
    if (limit.error !== undefined || offset.error !== undefined) {
      const errors = [limit.error, offset.error].filter(
        (e): e is string => e !== undefined,
      );
      return reply.code(400).send({ error: errors[0], errors });
    }
    const filter = {
      ...(req.query.sink === undefined ? {} : { sink: req.query.sink }),
      ...(req.query.code === undefined ? {} : { code: req.query.code }),
    };
    const page = {
      limit: Math.min(MAX_DLQ_PAGE, limit.value),
      offset: offset.value,
    };
    return {
      total: await store.count(filter),
      ...page,
      entries: await store.list({ ...filter, ...page }),
    };
  });

  app.post<{ Body: { sink?: string; code?: string } | undefined }>(
    '/dlq/replay',
    async (req, reply) => {
      if (agent.deadLetters === undefined)
        return reply
          .code(503)
          .send({ error: 'the dead-letter queue is disabled (dlq.enabled)' });
      const body =
        typeof req.body === 'object' && req.body !== null ? req.body : {};
      try {
        return await agent.replayDeadLetters({
          ...(body.sink === undefined ? {} : { sink: body.sink }),
          ...(body.code === undefined ? {} : { filter: { code: body.code } }),
        });
      } catch (error) {
        if (LcError.isInstance(error, 'LC_ERR_INVALID_INPUT'))
          return reply.code(400).send(errorBody(error));
        throw error;
      }
    },
  );

  app.post('/config/reload', async (_req, reply) => {
    if (options.reload === undefined)
      return reply
        .code(503)
        .send({ error: 'reload is not available (no config file)' });
    try {
      return { status: 'reloaded', ...(await options.reload()) };
    } catch (error) {
      const issues = LcError.isInstance(error)
        ? (error.details['issues'] as ConfigIssue[] | undefined)
        : undefined;
      return reply.code(400).send({
        status: 'rejected',
        ...errorBody(error),
        ...(issues === undefined ? {} : { issues }),
      });
    }
  });

  app.post('/api/v1/logs', async (req, reply) => {
    if (!agent.config.sources.http.enabled) {
      return reply
        .code(404)
        .send({ error: 'HTTP ingest is disabled (sources.http.enabled)' });
    }
    const parsed = parseIngest(req.body, {
      maxRecords,
      labels: agent.config.sources.http.labels,
      nowMs: Date.now(),
    });
    if (!parsed.ok)
      return reply
        .code(parsed.status)
        .send({ error: parsed.errors[0], errors: parsed.errors });
    try {
      agent.ingest(parsed.records);
    } catch (error) {
      // Stopping, reloading or full: nothing was taken, the client retries.
      if (
        LcError.isInstance(error, 'LC_ERR_SERVICE_UNAVAILABLE') ||
        LcError.isInstance(error, 'LC_ERR_QUEUE_FULL')
      )
        return reply
          .code(503)
          .header('retry-after', '1')
          .send(errorBody(error));
      throw error;
    }
    return reply.code(202).send({ accepted: parsed.records.length });
  });

  if (options.metrics !== false) {
    app.get('/metrics', async (_req, reply) => {
      const body = await agent.registry.metrics();
      return reply
        .header('content-type', agent.registry.contentType)
        .send(body);
    });
  }
  return app;
}
