import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { buildApi } from './build-api.js';
import { createAgent } from './create-agent.js';

const config = (api: string) =>
  unwrapConfig(
    parseConfig(
      `api: ${api}\npositions: {store: memory}\nsinks: {stdout: [{}]}`,
      { env: {} },
    ),
  );

describe('buildApi', () => {
  it('should serve the agent with the token and body limit of api', async () => {
    const cfg = config('{token: s3cret, max_body_bytes: 64}');
    const agent = createAgent({ config: cfg });
    const api = buildApi(cfg, {
      agent,
      version: '9.9.9',
      logger: (await import('@lc/core')).silentLogger,
    });
    const health = await api.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ version: '9.9.9' });
    const noToken = await api.inject({
      method: 'POST',
      url: '/config/reload',
    });
    expect(noToken.statusCode).toBe(401);
    const tooBig = await api.inject({
      method: 'POST',
      url: '/api/v1/logs',
      headers: {
        authorization: 'Bearer s3cret',
        'content-type': 'application/x-ndjson',
      },
      payload: `${'x'.repeat(100)}\n`,
    });
    expect(tooBig.statusCode).toBe(413);
    await api.close();
  });

  it('should answer 503 to a reload when it has none (embedded default config)', async () => {
    const cfg = config('{}');
    const api = buildApi(cfg, {
      agent: createAgent({ config: cfg }),
      version: '1',
      logger: (await import('@lc/core')).silentLogger,
    });
    const res = await api.inject({ method: 'POST', url: '/config/reload' });
    expect(res.statusCode).toBe(503);
    await api.close();
  });
});
