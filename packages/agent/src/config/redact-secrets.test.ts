import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from './load-config.js';
import {
  collectSecrets,
  isSecretPath,
  REDACTED,
  redactSecrets,
} from './redact-secrets.js';

const CONFIG = {
  api: { token: 'api-token-1', host: '127.0.0.1' },
  positions: { redis_url: 'redis://:redis%40pw@127.0.0.1:6379' },
  sinks: {
    loki: [
      {
        url: 'http://127.0.0.1:3100',
        username: 'bob',
        password: 'loki-pass-2',
        headers: { 'X-Api-Key': 'header-key-3', 'X-Scope-OrgID': 'team' },
      },
    ],
    http: [{ url: 'http://127.0.0.1:1', bearer_token: 'bearer-4' }],
  },
  processing: { pipelines: [{ name: 'p', steps: [] }] },
};

describe('isSecretPath', () => {
  it('should name secret keys and header values, not their neighbours', () => {
    expect(isSecretPath(['api', 'token'])).toBe(true);
    expect(isSecretPath(['sinks', 'loki', 0, 'password'])).toBe(true);
    expect(isSecretPath(['sinks', 'http', 0, 'bearer_token'])).toBe(true);
    expect(isSecretPath(['sinks', 'loki', 0, 'headers', 'X-Any'])).toBe(true);
    expect(isSecretPath(['x', 'client_secret'])).toBe(true);
    expect(isSecretPath(['sinks', 'loki', 0, 'username'])).toBe(false);
    expect(isSecretPath(['sinks', 'loki', 0, 'headers'])).toBe(false);
    expect(isSecretPath(['sinks', 'kafka', 0, 'key_label'])).toBe(false);
  });
});

describe('redactSecrets', () => {
  it('should replace every secret and URL credential and keep the rest', () => {
    const out = redactSecrets(CONFIG) as typeof CONFIG;
    expect(out.api).toEqual({ token: REDACTED, host: '127.0.0.1' });
    expect(out.positions.redis_url).toBe(`redis://${REDACTED}@127.0.0.1:6379`);
    expect(out.sinks.loki[0]).toMatchObject({
      username: 'bob',
      password: REDACTED,
      headers: { 'X-Api-Key': REDACTED, 'X-Scope-OrgID': REDACTED },
    });
    expect(out.sinks.http[0]?.bearer_token).toBe(REDACTED);
    const text = JSON.stringify(out);
    for (const s of collectSecrets(CONFIG)) expect(text).not.toContain(s);
  });

  it('should leave errors and other class instances to their serializers', () => {
    const err = new Error('boom');
    expect((redactSecrets({ err }) as { err: Error }).err).toBe(err);
  });
});

describe('collectSecrets', () => {
  it('should find each secret in every form it may be printed in', () => {
    const found = collectSecrets(CONFIG);
    expect(found).toEqual(
      expect.arrayContaining([
        'api-token-1',
        'loki-pass-2',
        'header-key-3',
        'bearer-4',
        'redis%40pw',
        'redis@pw',
        Buffer.from('bob:loki-pass-2').toString('base64'),
      ]),
    );
    expect(found).not.toContain('bob');
    expect(found).not.toContain('127.0.0.1');
  });
});

// Every place a secret can sit in a validated agent config, set to a value
// that appears nowhere else, must be gone from the redacted copy.

const CONFIG_SECRETS = {
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

describe('redactSecrets of a full config', () => {
  it('should remove every secret of a full config, keeping the rest', () => {
    const env = {
      LOKI_PASSWORD: CONFIG_SECRETS.lokiPassword,
      TEAM_API_KEY: CONFIG_SECRETS.envLabel,
      HOME: '/home/lc',
    };
    const config = unwrapConfig(
      parseConfig(
        `api: {token: ${CONFIG_SECRETS.token}}
positions: {store: redis, redis_url: "redis://:${CONFIG_SECRETS.redisPassword}@127.0.0.1:6379/0"}
sources: {http: {labels: {team_key: "\${TEAM_API_KEY}"}}}
sinks:
  loki:
    - url: "https://user:${CONFIG_SECRETS.urlPassword}@loki.example:3100/?x=1&token=${CONFIG_SECRETS.queryToken}"
      username: lc
      password: "\${LOKI_PASSWORD}"
      bearer_token: ${CONFIG_SECRETS.lokiBearer}
      headers: {X-Api-Key: ${CONFIG_SECRETS.lokiHeader}}
      tenant_id: team-a
  http:
    - url: "https://es.example:9200/_bulk"
      username: lc
      password: ${CONFIG_SECRETS.httpPassword}
      bearer_token: ${CONFIG_SECRETS.httpBearer}
      headers: {Authorization: "ApiKey ${CONFIG_SECRETS.httpHeader}"}
`,
        { env },
      ),
    );
    const redacted = redactSecrets(config, { env }) as typeof config;
    const text = JSON.stringify(redacted);
    for (const [where, secret] of Object.entries(CONFIG_SECRETS))
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
      redactSecrets({
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
      redactSecrets(
        { labels: { host: 'node-1', short: 'abc' } },
        { env: { HOSTNAME: 'node-1', SHORT_TOKEN: 'abc' } },
      ),
    ).toEqual({ labels: { host: 'node-1', short: 'abc' } });
  });
});
