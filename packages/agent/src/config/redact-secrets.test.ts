import { describe, expect, it } from 'vitest';
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
