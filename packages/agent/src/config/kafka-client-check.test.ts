import type { LibrdkafkaStatus } from '@lc/sinks';
import { describe, expect, it } from 'vitest';
import { kafkaClientIssues, resolveKafkaClient } from './kafka-client-check.js';
import { parse } from 'yaml';
import { configSchema } from './schema.js';
import type { AgentConfig } from './schema.js';

const installed = (): LibrdkafkaStatus => ({
  available: true,
  version: '2.15.1',
  features: ['gzip', 'snappy', 'lz4', 'ssl', 'sasl_scram'],
});
const missing = (): LibrdkafkaStatus => ({
  available: false,
  reason: '@confluentinc/kafka-javascript is not installed',
  hint: 'install it',
});

function config(kafka: string): AgentConfig {
  // The schema alone: parseConfig would also run the client checks
  // against the native module of this machine.
  return configSchema.parse(parse(`sinks: {kafka: [${kafka}]}`)) as AgentConfig;
}

const issues = (kafka: string, status: () => LibrdkafkaStatus) =>
  kafkaClientIssues(config(kafka), status).map(
    (i) => `${i.path}: ${i.message}`,
  );

describe('resolveKafkaClient', () => {
  it('should pick librdkafka for auto only when it is installed and can serve the TLS settings', () => {
    const pick = (
      sink: Parameters<typeof resolveKafkaClient>[0],
      status: () => LibrdkafkaStatus,
    ) => resolveKafkaClient(sink, status).client;
    expect(pick({ client: 'auto' }, installed)).toBe('librdkafka');
    expect(pick({ client: 'auto' }, missing)).toBe('kafkajs');
    expect(pick({ client: 'kafkajs' }, installed)).toBe('kafkajs');
    expect(pick({ client: 'librdkafka' }, missing)).toBe('librdkafka');
    const tls = config(
      '{brokers: [a], topic: t, tls: {server_name: kafka.internal}}',
    ).sinks.kafka[0]!;
    expect(resolveKafkaClient(tls, installed)).toEqual({
      client: 'kafkajs',
      why: 'client: auto; tls.server_name needs kafkajs',
    });
  });
});

describe('kafkaClientIssues', () => {
  const base = '{brokers: ["127.0.0.1:9092"], topic: logs';
  it('should name sinks.kafka[0].client and how to install when librdkafka is asked for but missing', () => {
    expect(issues(`${base}, client: librdkafka}`, missing)).toEqual([
      'sinks.kafka[0].client: "librdkafka" is not available (@confluentinc/kafka-javascript is not installed); install it',
    ]);
  });

  it('should accept auto and kafkajs on a machine without the native module', () => {
    expect(issues(`${base}}`, missing)).toEqual([]);
    expect(issues(`${base}, client: kafkajs}`, missing)).toEqual([]);
  });

  it('should refuse lz4 and zstd where the client cannot do them', () => {
    expect(
      issues(`${base}, client: kafkajs, compression: zstd}`, installed),
    ).toEqual(['sinks.kafka[0].compression: "zstd" needs client librdkafka']);
    expect(issues(`${base}, compression: lz4}`, missing)).toEqual([
      'sinks.kafka[0].compression: "lz4" needs client librdkafka, which is not available (@confluentinc/kafka-javascript is not installed); install it',
    ]);
    expect(issues(`${base}, compression: zstd}`, installed)).toEqual([
      'sinks.kafka[0].compression: "zstd" is not built into this librdkafka 2.15.1 (it has: gzip, snappy, lz4, ssl, sasl_scram)',
    ]);
    expect(issues(`${base}, compression: lz4}`, installed)).toEqual([]);
  });

  it('should refuse tls.server_name and min_version 1.3 with librdkafka', () => {
    expect(
      issues(
        `${base}, client: librdkafka, tls: {server_name: kafka.internal, min_version: "1.3"}}`,
        installed,
      ).map((i) => i.split(':')[0]),
    ).toEqual([
      'sinks.kafka[0].tls.server_name',
      'sinks.kafka[0].tls.min_version',
    ]);
    expect(
      issues(`${base}, client: kafkajs, tls: {server_name: k}}`, installed),
    ).toEqual([]);
    // auto falls back to kafkajs for them: an existing config keeps working.
    expect(issues(`${base}, tls: {server_name: k}}`, installed)).toEqual([]);
  });
});
