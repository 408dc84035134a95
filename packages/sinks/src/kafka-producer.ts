// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the ambient types of this untyped dependency must travel with the file when workspace consumers compile it from source
/// <reference path="./types/kafkajs-snappy.d.ts" />
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import type { KafkaConfig, Producer, SASLOptions } from 'kafkajs';
import type createSnappyCodecType from 'kafkajs-snappy';
import type { ConnectionOptions } from 'node:tls';
import { silentLogger } from '@lc/core';
import type { Logger } from '@lc/core';

/**
 * Compression codecs the Kafka sink can ask for. kafkajs has gzip and
 * snappy (lz4 with a codec the user registers, no zstd); librdkafka has
 * all of them when built with zstd.
 */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** One message handed to a {@link KafkaProducerLike}. */
export interface KafkaOutgoingMessage {
  readonly key: Buffer | null;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, Buffer>>;
  /** Epoch milliseconds as a decimal string. */
  readonly timestamp: string;
}

/** Per-send settings. */
export interface KafkaSendOptions {
  /** -1 = all in-sync replicas, 1 = leader, 0 = none. */
  readonly acks: -1 | 0 | 1;
  readonly timeoutMs: number;
  readonly compression: KafkaCompression;
}

/** One message of a send that the broker or client refused. */
export interface KafkaSendFailure {
  /** Index of the message in the `messages` given to `send`. */
  readonly index: number;
  /** Why; classified like a rejected send (permanent or retryable). */
  readonly error: unknown;
}

/** What a send that was partly refused resolves with. */
export interface KafkaSendOutcome {
  /** The refused messages; every other message was acknowledged. */
  readonly failed: readonly KafkaSendFailure[];
}

/**
 * The narrow producer the Kafka sink needs: kafkajs
 * ({@link createKafkaJsProducer}), librdkafka (`createRdKafkaProducer`), or
 * your own client wrapped in these three methods. `send` resolves (with
 * nothing) once the broker acknowledged every message per `acks`, resolves
 * with a {@link KafkaSendOutcome} when it knows which messages were
 * refused (per-message delivery reports), and rejects when the whole send
 * failed.
 */
export interface KafkaProducerLike {
  connect(): Promise<void>;
  send(
    topic: string,
    messages: readonly KafkaOutgoingMessage[],
    options: KafkaSendOptions,
  ): Promise<void | KafkaSendOutcome>;
  disconnect(): Promise<void>;
}

/** Options of {@link createKafkaJsProducer}. */
export interface KafkaJsProducerOptions {
  /** Bootstrap brokers, `host:port`. Required. */
  brokers: string[];
  /** @default 'lc' */
  clientId?: string;
  /** TLS: `true` or Node TLS options, passed to kafkajs. */
  ssl?: boolean | ConnectionOptions;
  /** SASL options, passed to kafkajs. */
  sasl?: SASLOptions;
  /** Connection timeout in ms. @default 3000 */
  connectionTimeoutMs?: number;
  /** kafkajs-internal retries per send (the dispatcher does the real retrying). @default 1 */
  retries?: number;
  /** Where kafkajs logs go. @default silentLogger */
  logger?: Logger;
  /** Extra kafkajs client config, merged last. */
  kafkaConfig?: Partial<KafkaConfig>;
}

type KafkaJsModule = typeof KafkaJs;

// kafkajs (and its snappy codec) cost ~13 MB of memory once loaded: they
// are required on first use, so an agent without a Kafka sink never pays.
const require = createRequire(import.meta.url);
let kafkajsModule: KafkaJsModule | undefined;

function kafkajs(): KafkaJsModule {
  if (kafkajsModule !== undefined) return kafkajsModule;
  const loaded = require('kafkajs') as KafkaJsModule;
  // kafkajs ships a placeholder that throws "not implemented"; replace it
  // unless the user registered a snappy codec of their own.
  if (!codecWorks(loaded, loaded.CompressionTypes.Snappy)) {
    codecsOf(loaded)[loaded.CompressionTypes.Snappy] =
      require('kafkajs-snappy') as typeof createSnappyCodecType;
  }
  kafkajsModule = loaded;
  return loaded;
}

function codecsOf(
  module: KafkaJsModule,
): Record<number, (() => unknown) | undefined> {
  return module.CompressionCodecs as unknown as Record<
    number,
    (() => unknown) | undefined
  >;
}

function codecWorks(module: KafkaJsModule, type: number): boolean {
  try {
    return codecsOf(module)[type]?.() !== undefined;
  } catch {
    return false;
  }
}

function codecOf(compression: KafkaCompression): number {
  const { CompressionTypes } = kafkajs();
  switch (compression) {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    case 'lz4':
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
  }
}

/** True when kafkajs has a codec for `compression` (lz4 needs one registered by the user). */
export function kafkaJsSupports(compression: KafkaCompression): boolean {
  return compression === 'none' || codecWorks(kafkajs(), codecOf(compression));
}

/** A {@link KafkaProducerLike} backed by a kafkajs 2.2 producer. */
export function createKafkaJsProducer(
  options: KafkaJsProducerOptions,
): KafkaProducerLike {
  const logger = options.logger ?? silentLogger;
  const { Kafka, logLevel } = kafkajs();
  const kafka = new Kafka({
    clientId: options.clientId ?? 'lc',
    brokers: options.brokers,
    ssl: options.ssl,
    sasl: options.sasl,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    retry: {
      retries: options.retries ?? 1,
      initialRetryTime: 100,
      maxRetryTime: 1000,
    },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      const fields = { kafkajs: entry.namespace, ...rest };
      // Called as methods: loggers such as pino need their `this`. This
      // runs inside kafkajs's socket handlers, where a throw would be an
      // uncaught exception that ends the process.
      try {
        if (entry.level <= logLevel.ERROR) logger.error(fields, message);
        else if (entry.level === logLevel.WARN) logger.warn(fields, message);
        else logger.debug(fields, message);
      } catch {
        // A failing logger must not take the producer down.
      }
    },
    ...options.kafkaConfig,
  });
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: true,
    idempotent: false,
  });
  return {
    connect: () => producer.connect(),
    async send(topic, messages, sendOptions) {
      await producer.send({
        topic,
        acks: sendOptions.acks,
        timeout: sendOptions.timeoutMs,
        compression: codecOf(sendOptions.compression),
        messages: messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: { ...m.headers },
          timestamp: m.timestamp,
        })),
      });
    },
    disconnect: () => producer.disconnect(),
  };
}
