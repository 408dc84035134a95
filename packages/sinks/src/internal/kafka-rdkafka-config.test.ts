import { describe, expect, it } from 'vitest';
import {
  rdKafkaConfig,
  unsupportedRdKafkaTls,
} from './kafka-rdkafka-config.js';

const base = {
  brokers: ['a:9092', 'b:9092'],
  clientId: 'lc',
  acks: -1 as const,
  compression: 'zstd' as const,
  requestTimeoutMs: 45_000,
  connectionTimeoutMs: 500,
};

describe('rdKafkaConfig', () => {
  it('should map brokers, acks, compression and timeouts to librdkafka properties', () => {
    expect(rdKafkaConfig(base)).toMatchObject({
      'bootstrap.servers': 'a:9092,b:9092',
      'client.id': 'lc',
      acks: -1,
      'compression.codec': 'zstd',
      'message.timeout.ms': 45_000,
      'request.timeout.ms': 30_000,
      'socket.connection.setup.timeout.ms': 1000,
      'enable.idempotence': false,
      dr_cb: true,
      'security.protocol': 'plaintext',
    });
  });

  it('should map TLS and SASL to security.protocol, PEM and SASL properties', () => {
    const config = rdKafkaConfig({
      ...base,
      tls: {
        ca: 'CA PEM',
        cert: Buffer.from('CERT PEM'),
        key: 'KEY PEM',
        keyPassword: 'kp',
      },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    expect(config).toMatchObject({
      'security.protocol': 'sasl_ssl',
      'ssl.ca.pem': 'CA PEM',
      'ssl.certificate.pem': 'CERT PEM',
      'ssl.key.pem': 'KEY PEM',
      'ssl.key.password': 'kp',
      'ssl.endpoint.identification.algorithm': 'https',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'u',
      'sasl.password': 'p',
    });
    expect(
      rdKafkaConfig({
        ...base,
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      })['security.protocol'],
    ).toBe('sasl_plaintext');
    expect(
      rdKafkaConfig({ ...base, tls: { insecureSkipVerify: true } }),
    ).toMatchObject({
      'security.protocol': 'ssl',
      'enable.ssl.certificate.verification': false,
      'ssl.endpoint.identification.algorithm': 'none',
    });
  });
});

describe('unsupportedRdKafkaTls', () => {
  it('should name serverName and a TLS 1.3 minimum, and accept the rest', () => {
    expect(unsupportedRdKafkaTls({ serverName: 'k' })?.option).toBe(
      'tls.serverName',
    );
    expect(unsupportedRdKafkaTls({ minVersion: 'TLSv1.3' })?.option).toBe(
      'tls.minVersion',
    );
    expect(
      unsupportedRdKafkaTls({ minVersion: 'TLSv1.2', ca: 'x' }),
    ).toBeUndefined();
    expect(unsupportedRdKafkaTls(undefined)).toBeUndefined();
  });
});
