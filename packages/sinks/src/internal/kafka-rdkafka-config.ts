import type { SinkTlsOptions } from '../check-sink-tls.js';
import type { KafkaCompression } from '../kafka-producer.js';
import type { KafkaSaslOptions } from '../kafka-sink.js';
import type { RdKafkaConfig } from './kafka-rdkafka-binding.js';

/** What {@link rdKafkaConfig} maps to librdkafka properties. */
export interface RdKafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly acks: -1 | 0 | 1;
  readonly compression: KafkaCompression;
  readonly requestTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly tls?: SinkTlsOptions;
  readonly sasl?: KafkaSaslOptions;
}

/**
 * Messages the client may hold (queued and in flight). librdkafka's default
 * (100,000) refuses `produce` with QUEUE_FULL under a deep dispatcher
 * pipeline; the dispatcher already bounds what is in flight in bytes.
 */
const MAX_QUEUED_MESSAGES = 1_000_000;

const pem = (value: string | Buffer): string =>
  typeof value === 'string' ? value : value.toString('utf8');

/**
 * The librdkafka properties for `settings` (validated beforehand): acks,
 * compression, the delivery timeout (`message.timeout.ms`: every message
 * gets a delivery report by then), TLS as PEM properties and SASL.
 */
export function rdKafkaConfig(settings: RdKafkaSettings): RdKafkaConfig {
  const { tls, sasl } = settings;
  const config: RdKafkaConfig = {
    'bootstrap.servers': settings.brokers.join(','),
    'client.id': settings.clientId,
    acks: settings.acks,
    'compression.codec': settings.compression,
    'message.timeout.ms': settings.requestTimeoutMs,
    'request.timeout.ms': Math.min(settings.requestTimeoutMs, 30_000),
    'socket.connection.setup.timeout.ms': Math.max(
      1000,
      settings.connectionTimeoutMs,
    ),
    'queue.buffering.max.messages': MAX_QUEUED_MESSAGES,
    // Like the kafkajs path: the dispatcher retries, so no idempotent
    // producer (its broker-side state is not worth it for at-least-once).
    'enable.idempotence': false,
    // Delivery reports without the payload copied back.
    dr_cb: true,
    'security.protocol':
      tls === undefined
        ? sasl === undefined
          ? 'plaintext'
          : 'sasl_plaintext'
        : sasl === undefined
          ? 'ssl'
          : 'sasl_ssl',
  };
  if (tls !== undefined) {
    if (tls.ca !== undefined) config['ssl.ca.pem'] = pem(tls.ca);
    if (tls.cert !== undefined) config['ssl.certificate.pem'] = pem(tls.cert);
    if (tls.key !== undefined) config['ssl.key.pem'] = pem(tls.key);
    if (tls.keyPassword !== undefined)
      config['ssl.key.password'] = tls.keyPassword;
    if (tls.insecureSkipVerify === true) {
      config['enable.ssl.certificate.verification'] = false;
      config['ssl.endpoint.identification.algorithm'] = 'none';
    } else {
      config['ssl.endpoint.identification.algorithm'] = 'https';
    }
  }
  if (sasl !== undefined) {
    config['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    config['sasl.username'] = sasl.username;
    config['sasl.password'] = sasl.password;
  }
  return config;
}

/**
 * The TLS option librdkafka cannot honour, or `undefined`: it checks the
 * broker's own host name (no `serverName`) and has no minimum version
 * setting (OpenSSL's floor, TLS 1.2 on current systems, applies).
 */
export function unsupportedRdKafkaTls(
  tls: SinkTlsOptions | undefined,
): { option: string; why: string } | undefined {
  if (tls?.serverName !== undefined)
    return {
      option: 'tls.serverName',
      why: 'librdkafka verifies the broker by the host name it connects to; connect by a name the certificate holds, or use client kafkajs',
    };
  if (tls?.minVersion === 'TLSv1.3')
    return {
      option: 'tls.minVersion',
      why: "librdkafka has no minimum TLS version setting (it accepts TLS 1.2 and 1.3); use 'TLSv1.2' or client kafkajs",
    };
  return undefined;
}
