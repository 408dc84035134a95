import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { REDACTED, redactConfig } from './redact-config.js';

// Every place a secret can sit in a validated agent config, set to a value
// that appears nowhere else, must be gone from the redacted copy.

const SECRETS = {
  token: 'tok-0a1b2c3d',
  lokiPassword: 'lokipw-4e5f',
  lokiBearer: 'lokibearer-6a7b',
  lokiHeader: 'lokihdr-8c9d',
  httpPassword: 'httppw-0e1f',
  httpBearer: 'httpbearer-2a3b',
  httpHeader: 'httphdr-4c5d',
  urlPassword: 'urlpw-6e7f',
  redisPassword: 'redispw-8a9b',
  queryToken: 'qtoken-0c1d',
  envLabel: 'envsecret-2e3f',
};

describe('redactConfig', () => {
  it('should remove every secret of a full config, keeping the rest', () => {
    const env = {
      LOKI_PASSWORD: SECRETS.lokiPassword,
      TEAM_API_KEY: SECRETS.envLabel,
      HOME: '/home/lc',
    };
    const config = unwrapConfig(
      parseConfig(
        `api: {token: ${SECRETS.token}}
positions: {store: redis, redis_url: "redis://:${SECRETS.redisPassword}@127.0.0.1:6379/0"}
sources: {http: {labels: {team_key: "\${TEAM_API_KEY}"}}}
sinks:
  loki:
    - url: "https://user:${SECRETS.urlPassword}@loki.example:3100/?x=1&token=${SECRETS.queryToken}"
      username: lc
      password: "\${LOKI_PASSWORD}"
      bearer_token: ${SECRETS.lokiBearer}
      headers: {X-Api-Key: ${SECRETS.lokiHeader}}
      tenant_id: team-a
  http:
    - url: "https://es.example:9200/_bulk"
      username: lc
      password: ${SECRETS.httpPassword}
      bearer_token: ${SECRETS.httpBearer}
      headers: {Authorization: "ApiKey ${SECRETS.httpHeader}"}
`,
        { env },
      ),
    );
    const redacted = redactConfig(config, { env }) as typeof config;
    const text = JSON.stringify(redacted);
    for (const [where, secret] of Object.entries(SECRETS))
      expect(text, where).not.toContain(secret);
    expect(redacted.api.token).toBe(REDACTED);
    expect(redacted.sinks.loki[0]).toMatchObject({
      url: `https://${REDACTED}@loki.example:3100/?x=1&token=${REDACTED}`,
      username: 'lc',
      password: REDACTED,
      bearer_token: REDACTED,
      headers: { 'X-Api-Key': REDACTED },
      tenant_id: 'team-a',
    });
    expect(redacted.sinks.http[0]?.headers).toEqual({
      Authorization: REDACTED,
    });
    expect(redacted.positions.redis_url).toBe(
      `redis://${REDACTED}@127.0.0.1:6379/0`,
    );
    expect(redacted.sources.http.labels).toEqual({ team_key: REDACTED });
    // Not secret: kept as they are.
    expect(redacted.app.data_dir).toBe(config.app.data_dir);
    expect(redacted.api.port).toBe(8401);
    expect(redacted.dlq.enabled).toBe(true);
  });

  it('should redact secret-looking keys at any depth, numbers too, and leave booleans', () => {
    expect(
      redactConfig({
        custom: {
          options: {
            sasl: { mechanism: 'plain', username: 'u', password: 123456 },
            apiKey: 'k-1',
            private_key: 'pk',
            tls: { passphrase: 'pp', verify: true },
            token_enabled: true,
          },
        },
      }),
    ).toEqual({
      custom: {
        options: {
          sasl: { mechanism: 'plain', username: 'u', password: REDACTED },
          apiKey: REDACTED,
          private_key: REDACTED,
          tls: { passphrase: REDACTED, verify: true },
          token_enabled: true,
        },
      },
    });
  });

  it('should ignore short or non-secret environment values', () => {
    expect(
      redactConfig(
        { labels: { host: 'node-1', short: 'abc' } },
        { env: { HOSTNAME: 'node-1', SHORT_TOKEN: 'abc' } },
      ),
    ).toEqual({ labels: { host: 'node-1', short: 'abc' } });
  });
});
