import type { Logger } from '@lc/core';
import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../api/create-api-server.js';
import type { AgentConfig } from '../config/schema.js';
import type { Agent, ReloadResult } from './agent.js';

/** What {@link buildApi} takes besides the config. */
export interface ApiDeps {
  readonly agent: Agent;
  /** Agent version for /health. */
  readonly version: string;
  /** `POST /config/reload`; absent (503) when running on the embedded default. */
  readonly reload?: () => Promise<ReloadResult>;
  readonly logger: Logger;
  /**
   * The environment the config's `${VAR}` came from: values of secret-named
   * variables are redacted from `/config` wherever they were substituted.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The HTTP API `cfg.api` and `cfg.metrics` describe, not listening yet
 * (`listen({ host: cfg.api.host, port: cfg.api.port })`).
 */
export function buildApi(cfg: AgentConfig, deps: ApiDeps): FastifyInstance {
  return createApiServer({
    agent: deps.agent,
    version: deps.version,
    ...(cfg.api.token === undefined ? {} : { token: cfg.api.token }),
    maxBodyBytes: cfg.api.max_body_bytes,
    maxRecordsPerRequest: cfg.api.max_records_per_request,
    metrics: cfg.metrics.enabled,
    ...(deps.reload === undefined ? {} : { reload: deps.reload }),
    ...(deps.env === undefined ? {} : { env: deps.env }),
    logger: deps.logger,
  });
}
