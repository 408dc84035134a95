import type { Logger } from '@lc/core';
import { createKafkaJsProducer, kafkaJsSupports } from '../kafka-producer.js';
import type { KafkaProducerLike } from '../kafka-producer.js';
import { createRdKafkaProducer } from '../kafka-rdkafka-producer.js';
import type { KafkaSinkOptions } from '../kafka-sink.js';
import { loadRdKafka, RDKAFKA_INSTALL_HINT } from './kafka-rdkafka-binding.js';
import { unsupportedRdKafkaTls } from './kafka-rdkafka-config.js';
import { kafkaTls } from './kafka-security.js';
import { invalidOption } from './validate.js';

const COMPRESSIONS: readonly string[] = [
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
];

/** What the sink resolved before building its producer factory. */
export interface KafkaClientSettings {
  readonly name: string;
  readonly acks: -1 | 0 | 1;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * Validate the client-dependent options of the Kafka sink (`client`,
 * `compression`, `tls`, `sasl`; throws `LC_ERR_INVALID_OPTION` naming the
 * option) and return what builds a producer: the user's `producer`,
 * kafkajs, or librdkafka (which must be installed).
 */
export function kafkaProducerFactory(
  options: KafkaSinkOptions,
  settings: KafkaClientSettings,
): () => KafkaProducerLike {
  const { name, logger } = settings;
  const compression = options.compression ?? 'none';
  if (!COMPRESSIONS.includes(compression))
    invalidOption(
      'createKafkaSink',
      'compression',
      "'none', 'gzip', 'snappy', 'lz4' or 'zstd'",
      compression,
    );
  const client = options.client ?? 'kafkajs';
  if (client !== 'kafkajs' && client !== 'librdkafka')
    invalidOption(
      'createKafkaSink',
      'client',
      "'kafkajs' or 'librdkafka'",
      client,
    );
  if (options.producer !== undefined && options.client !== undefined)
    invalidOption(
      'createKafkaSink',
      'client',
      'unset when producer is given',
      client,
    );
  // Validates tls and sasl (and warns) whatever the client.
  const ssl = kafkaTls(name, options, logger);
  if (options.producer !== undefined) return options.producer;
  const brokers = options.brokers as string[];
  if (client === 'kafkajs') {
    if (!kafkaJsSupports(compression))
      invalidOption(
        'createKafkaSink',
        'compression',
        "one kafkajs can do ('none', 'gzip', 'snappy'; lz4 with a codec registered in kafkajs CompressionCodecs; zstd needs client 'librdkafka')",
        compression,
      );
    return () =>
      createKafkaJsProducer({
        brokers,
        clientId: options.clientId,
        ...(ssl === undefined ? {} : { ssl }),
        ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
        connectionTimeoutMs: options.connectionTimeoutMs,
        logger,
      });
  }
  const load = loadRdKafka();
  if (!load.ok)
    invalidOption(
      'createKafkaSink',
      'client',
      `a client that is installed ('librdkafka': ${load.reason}; ${RDKAFKA_INSTALL_HINT})`,
      client,
    );
  if (compression !== 'none' && !load.module.features.includes(compression))
    invalidOption(
      'createKafkaSink',
      'compression',
      `one this librdkafka ${load.module.librdkafkaVersion} was built with (${load.module.features.filter((f) => COMPRESSIONS.includes(f)).join(', ')}; zstd needs libzstd-dev at build time)`,
      compression,
    );
  const tlsGap = unsupportedRdKafkaTls(options.tls);
  if (tlsGap !== undefined)
    invalidOption(
      'createKafkaSink',
      tlsGap.option,
      `unset with client 'librdkafka' (${tlsGap.why})`,
      '(set)',
    );
  const build = (): KafkaProducerLike =>
    createRdKafkaProducer({
      brokers,
      ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
      acks: settings.acks,
      compression,
      requestTimeoutMs: settings.requestTimeoutMs,
      ...(options.connectionTimeoutMs === undefined
        ? {}
        : { connectionTimeoutMs: options.connectionTimeoutMs }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
      logger,
    });
  // librdkafka checks its configuration when the client is built: build
  // one now (it starts no thread before connect) so that a refused
  // setting fails construction, not the first write.
  build()
    .disconnect()
    .catch(() => undefined);
  return build;
}
