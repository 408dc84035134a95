// Kafka TLS and SASL against a real broker: the shared librdkafka mock
// cluster stores and serves the messages, but it has no TLS or SASL (it
// ignores security.protocol) and no SASL-capable Kafka can be installed
// here. So a proxy started in the test (@lc/test-utils
// startKafkaSecureProxy) speaks the broker side of both: it terminates
// real TLS with certificates generated in this file, runs SaslHandshake /
// SaslAuthenticate (PLAIN, and SCRAM-SHA-256/512 per RFC 5802/7677,
// verifying the client proof and sending the server signature kafkajs
// checks), then forwards Kafka frames to the mock, advertising itself in
// Metadata. Messages are read back from the mock directly.
import { freezeLabels } from '@lc/core';
import type { LogRecord, Logger } from '@lc/core';
import {
  createTempDir,
  createTestPki,
  serviceEnv,
  skipWithout,
  startKafkaSecureProxy,
} from '@lc/test-utils';
import type { KafkaSecureProxy, TempDir, TestPki } from '@lc/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaSink } from '../../src/kafka-sink.js';
import type { KafkaSaslOptions } from '../../src/kafka-sink.js';
import { consume, describeClient } from './kafka-helpers.js';

const skip = await skipWithout('kafka');
const brokers = (serviceEnv().kafkaBrokers ?? '127.0.0.1:1').split(',');
const upstream = brokers[0] as string;
const signal = new AbortController().signal;
const run = `${process.pid}-${Date.now()}`;
const users = { lc: 'right password' };

function rec(i: number): LogRecord {
  return {
    line: `secure line ${i}`,
    labels: freezeLabels({}),
    timestampMs: 1_700_000_000_000 + i,
    timestampNanos: 0,
    source: { kind: 'file', id: 'secure' },
    cursor: { offset: i },
  };
}

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => undefined;
  const logger: Logger = {
    trace: noop,
    debug: noop,
    info: noop,
    warn: (a: unknown, b?: unknown) => {
      warnings.push(typeof a === 'string' ? a : String(b));
    },
    error: noop,
    fatal: noop,
    child: () => logger,
  } as unknown as Logger;
  return { logger, warnings };
}

describeClient(describe, it, 'createKafkaSink', skip, (client) => {
  let tmp: TempDir;
  let pki: TestPki;
  let proxy: KafkaSecureProxy | undefined;
  let topicSeq = 0;
  const topic = () => `lc-secure-${client}-${run}-${topicSeq++}`;

  beforeAll(async () => {
    tmp = await createTempDir('lc-kafka-tls-');
    pki = await createTestPki(tmp.path);
  });
  afterAll(async () => {
    await tmp.cleanup();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  const tlsServer = () => ({ key: pki.server.key, cert: pki.server.cert });

  describe('write over TLS and SASL', () => {
    for (const mechanism of [
      'plain',
      'scram-sha-256',
      'scram-sha-512',
    ] as const) {
      it(`should produce over SASL_SSL with ${mechanism} and read back every record`, async () => {
        proxy = await startKafkaSecureProxy({
          upstream,
          tls: tlsServer(),
          users,
        });
        const t = topic();
        const sink = createKafkaSink({
          client,
          brokers: [proxy.address],
          topic: t,
          format: 'text',
          tls: { ca: pki.ca.cert },
          sasl: { mechanism, username: 'lc', password: users.lc },
        });
        const batch = Array.from({ length: 20 }, (_, i) => rec(i));
        expect(await sink.write(batch, { signal })).toEqual({
          status: 'success',
        });
        await sink.shutdown();
        const got = await consume(brokers, [t], batch.length);
        expect(got.map((m) => m.value).sort()).toEqual(
          batch.map((r) => r.line).sort(),
        );
        expect(proxy.authentications.length).toBeGreaterThan(0);
        expect(
          proxy.authentications.every((a) => a.ok && a.username === 'lc'),
        ).toBe(true);
        expect(new Set(proxy.authentications.map((a) => a.mechanism))).toEqual(
          new Set([mechanism.toUpperCase()]),
        );
      }, 60_000);
    }

    it('should present the client certificate to a broker that requires one (mutual TLS)', async () => {
      proxy = await startKafkaSecureProxy({
        upstream,
        tls: {
          ...tlsServer(),
          ca: pki.ca.cert,
          requestCert: true,
          rejectUnauthorized: true,
        },
      });
      const t = topic();
      const sink = createKafkaSink({
        client,
        brokers: [proxy.address],
        topic: t,
        format: 'text',
        tls: {
          ca: pki.ca.cert,
          cert: pki.client.cert,
          key: pki.client.key,
        },
      });
      expect(await sink.write([rec(1), rec(2)], { signal })).toEqual({
        status: 'success',
      });
      await sink.shutdown();
      expect(
        (await consume(brokers, [t], 2)).map((m) => m.value).sort(),
      ).toEqual(['secure line 1', 'secure line 2']);
      expect(proxy.clientCertificates).toContain('lc-client');
    }, 60_000);

    it('should produce over SASL_PLAINTEXT with SCRAM (no TLS)', async () => {
      proxy = await startKafkaSecureProxy({ upstream, users });
      const t = topic();
      const { logger, warnings } = capture();
      const sink = createKafkaSink({
        client,
        brokers: [proxy.address],
        topic: t,
        format: 'text',
        logger,
        sasl: {
          mechanism: 'scram-sha-512',
          username: 'lc',
          password: users.lc,
        },
      });
      expect(await sink.write([rec(7)], { signal })).toEqual({
        status: 'success',
      });
      await sink.shutdown();
      expect((await consume(brokers, [t], 1)).map((m) => m.value)).toEqual([
        'secure line 7',
      ]);
      expect(warnings).toEqual([]);
    }, 60_000);

    it('should fail permanently with LC_ERR_SINK_AUTH when the broker refuses the password, and try a new client next time', async () => {
      proxy = await startKafkaSecureProxy({
        upstream,
        tls: tlsServer(),
        users,
      });
      const { logger, warnings } = capture();
      const sasl: KafkaSaslOptions = {
        mechanism: 'scram-sha-256',
        username: 'lc',
        password: 'wrong password',
      };
      const sink = createKafkaSink({
        client,
        name: 'kafka-auth',
        brokers: [proxy.address],
        topic: topic(),
        tls: { ca: pki.ca.cert },
        sasl,
        logger,
      });
      for (let attempt = 1; attempt <= 2; attempt++) {
        const result = await sink.write([rec(1), rec(2)], { signal });
        expect(result.status).toBe('failure');
        if (result.status !== 'failure') return;
        expect(result.error.code).toBe('LC_ERR_SINK_AUTH');
        expect(result.error.message).toContain('sink "kafka-auth"');
        expect(result.error.message).toMatch(
          client === 'kafkajs'
            ? /SASL SCRAM SHA256 authentication failed/i
            : /SASL authentication error: Authentication failed/i,
        );
      }
      // Each write authenticated afresh: a broken client is not reused.
      const refusals = proxy.authentications.filter((a) => !a.ok);
      expect(refusals.length).toBeGreaterThanOrEqual(2);
      expect(refusals.every((a) => a.username === 'lc')).toBe(true);
      expect(warnings.some((w) => w.includes('dead-letter queue'))).toBe(true);
      await sink.shutdown();
    }, 60_000);

    it('should fail permanently with LC_ERR_SINK_TLS naming the reason when the broker certificate is from another CA', async () => {
      proxy = await startKafkaSecureProxy({
        upstream,
        tls: tlsServer(),
        users,
      });
      const { logger, warnings } = capture();
      const sink = createKafkaSink({
        client,
        name: 'kafka-tls',
        brokers: [proxy.address],
        topic: topic(),
        tls: { ca: pki.otherCa.cert },
        sasl: { mechanism: 'plain', username: 'lc', password: users.lc },
        logger,
      });
      const result = await sink.write([rec(1)], { signal });
      expect(result.status).toBe('failure');
      if (result.status !== 'failure') return;
      expect(result.error.code).toBe('LC_ERR_SINK_TLS');
      expect(result.error.message).toContain('sink "kafka-tls"');
      expect(result.error.message).toContain('not signed by a trusted CA');
      expect(proxy.authentications).toEqual([]);
      expect(
        warnings.some(
          (w) => w.includes('LC_ERR_SINK_TLS') || w.includes('TLS handshake'),
        ),
      ).toBe(true);
      await sink.shutdown();
    }, 60_000);

    it('should refuse an expired broker certificate, and accept the broker by server_name when it is not named by its address', async () => {
      proxy = await startKafkaSecureProxy({
        upstream,
        tls: { key: pki.expiredServer.key, cert: pki.expiredServer.cert },
      });
      const expired = createKafkaSink({
        client,
        brokers: [proxy.address],
        topic: topic(),
        tls: { ca: pki.ca.cert },
      });
      const result = await expired.write([rec(1)], { signal });
      expect(result.status === 'failure' && result.error.code).toBe(
        'LC_ERR_SINK_TLS',
      );
      expect(result.status === 'failure' && result.error.message).toContain(
        'expired',
      );
      await expired.shutdown();
      await proxy.close();

      proxy = await startKafkaSecureProxy({
        upstream,
        tls: { key: pki.sniServer.key, cert: pki.sniServer.cert },
      });
      const byAddress = createKafkaSink({
        client,
        brokers: [proxy.address],
        topic: topic(),
        tls: { ca: pki.ca.cert },
      });
      const mismatch = await byAddress.write([rec(1)], { signal });
      expect(mismatch.status === 'failure' && mismatch.error.message).toContain(
        'does not name this host',
      );
      await byAddress.shutdown();
      const t = topic();
      if (client === 'librdkafka') {
        // librdkafka verifies the host it connects to; no SNI override.
        expect(() =>
          createKafkaSink({
            client,
            brokers: [proxy!.address],
            topic: t,
            tls: { ca: pki.ca.cert, serverName: 'logs.internal' },
          }),
        ).toThrow(/tls\.serverName must be unset with client 'librdkafka'/);
        return;
      }
      const byName = createKafkaSink({
        client,
        brokers: [proxy.address],
        topic: t,
        format: 'text',
        tls: { ca: pki.ca.cert, serverName: 'logs.internal' },
      });
      expect(await byName.write([rec(3)], { signal })).toEqual({
        status: 'success',
      });
      await byName.shutdown();
      expect((await consume(brokers, [t], 1)).map((m) => m.value)).toEqual([
        'secure line 3',
      ]);
    }, 90_000);
  });
});

describe('createKafkaSink', () => {
  describe('options', () => {
    it('should refuse an unknown SASL mechanism, an empty password and tls with a custom producer', () => {
      const base = { brokers: ['127.0.0.1:1'], topic: 't' };
      const invalid = (fn: () => unknown, option: string) =>
        expect(fn).toThrow(
          expect.objectContaining({
            code: 'LC_ERR_INVALID_OPTION',
            message: expect.stringContaining(option),
          }),
        );
      invalid(
        () =>
          createKafkaSink({
            ...base,
            sasl: {
              mechanism: 'gssapi',
              username: 'u',
              password: 'p',
            } as never,
          }),
        'sasl.mechanism',
      );
      invalid(
        () =>
          createKafkaSink({
            ...base,
            sasl: { mechanism: 'plain', username: 'u', password: '' },
          }),
        'sasl.password',
      );
      invalid(
        () =>
          createKafkaSink({
            topic: 't',
            producer: () => {
              throw new Error('unused');
            },
            tls: {},
          }),
        'tls',
      );
      invalid(
        () =>
          createKafkaSink({ ...base, tls: { minVersion: 'TLSv1' as never } }),
        'tls.minVersion',
      );
    });

    it('should warn that SASL PLAIN without tls sends the password in clear text', () => {
      const { logger, warnings } = capture();
      createKafkaSink({
        brokers: ['127.0.0.1:1'],
        topic: 't',
        logger,
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      });
      expect(warnings.join('\n')).toContain('clear text');
    });
  });
});
