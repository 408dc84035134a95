import { z } from 'zod';
import { duration, section } from './schema-helpers.js';
import { sinkCommon } from './sink-common-schema.js';
import { saslSection, tlsSection } from './sink-security-schema.js';

/** An entry of `sinks.kafka`. */
export const kafkaSink = section({
  ...sinkCommon,
  brokers: z.array(z.string().min(1)).min(1).describe('host:port list.'),
  topic: z.string().min(1).describe('Topic to produce to.'),
  client: z
    .enum(['auto', 'kafkajs', 'librdkafka'])
    .default('auto')
    .describe(
      'Kafka client: librdkafka (the optional native @confluentinc/kafka-javascript module: ~2.5× less client CPU per message, lz4 and zstd; no tls.server_name or min_version 1.3), kafkajs (pure JavaScript, always installed), or auto: librdkafka when installed and the TLS settings allow it, else kafkajs (the choice and why are logged at start).',
    ),
  client_id: z.string().default('lc-agent').describe('Kafka client id.'),
  compression: z
    .enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
    .default('none')
    .describe('Batch compression; lz4 and zstd need client librdkafka.'),
  acks: z
    .union([z.literal(-1), z.literal(0), z.literal(1)])
    .default(-1)
    .describe('Required acks.'),
  format: z
    .enum(['json', 'text'])
    .default('json')
    .describe('Message value: the record as JSON or the raw line.'),
  dedup_headers: z
    .enum(['all', 'record_id', 'none'])
    .default('all')
    .describe(
      'Dedup headers on each message: all (lc-batch-id, lc-record-index, lc-record-id), record_id (lc-record-id only: what a consumer needs to drop retried duplicates; ~2 µs less CPU per line with librdkafka) or none.',
    ),
  key_label: z
    .string()
    .optional()
    .describe(
      'Label used as message key (same key, same partition). @default no key',
    ),
  timeout: duration(
    30_000,
    'Delivery timeout: a message the broker has not acknowledged by then is retried.',
  ),
  tls: tlsSection('broker'),
  sasl: saslSection,
});
