import {
  LcError,
  once,
  shutDownResult,
  silentLogger,
  WriteResults,
} from '@lc/core';
import type { Instrumentation, LogRecord, Sink, WriteResult } from '@lc/core';
import type { SinkTlsOptions } from './check-sink-tls.js';
import { lineFormatter } from './internal/format-record.js';
import type { LineFormat } from './internal/format-record.js';
import { kafkaProducerFactory } from './internal/kafka-client.js';
import { withinDeadline } from './internal/kafka-deadline.js';
import { classifyKafkaError } from './internal/kafka-errors.js';
import { kafkaMessages } from './internal/kafka-messages.js';
import { createSinkMetrics } from './internal/sink-metrics.js';
import { permanentFailureWarner } from './internal/tls.js';
import { invalidOption, validatePositive } from './internal/validate.js';
import type { KafkaCompression, KafkaProducerLike } from './kafka-producer.js';

/** The built-in Kafka clients of {@link createKafkaSink}. */
export type KafkaClientName = 'kafkajs' | 'librdkafka';

/**
 * The dedup headers of {@link createKafkaSink}: `all` — `lc-batch-id`,
 * `lc-record-index` and `lc-record-id`; `record_id` — `lc-record-id` only
 * (enough to deduplicate retries); `none` — no headers.
 */
export type KafkaDedupHeaders = 'all' | 'record_id' | 'none';

/** SASL credentials of {@link createKafkaSink}. */
export interface KafkaSaslOptions {
  /** `plain` sends the password itself: use it with `tls` only. */
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** Options of {@link createKafkaSink}. */
export interface KafkaSinkOptions extends Instrumentation {
  /** Sink name. @default 'kafka' */
  name?: string;
  /** Bootstrap brokers for the built-in client. Required unless `producer` is given. */
  brokers?: string[];
  /**
   * The built-in client: `kafkajs` (pure JavaScript, always installed) or
   * `librdkafka` (the optional `@confluentinc/kafka-javascript` native
   * module: several times less CPU per message, lz4 and zstd; construction
   * throws `LC_ERR_INVALID_OPTION` naming `client` when it is not
   * installed). @default 'kafkajs'
   */
  client?: KafkaClientName;
  /** Client id. @default 'lc' */
  clientId?: string;
  /**
   * Connect over TLS (SSL / SASL_SSL listeners): given (even `{}`, the
   * system roots) turns TLS on. A failed handshake that retrying cannot
   * fix resolves `failure` `LC_ERR_SINK_TLS`. @default plain text
   */
  tls?: SinkTlsOptions;
  /**
   * SASL authentication (SASL_PLAINTEXT, or SASL_SSL with `tls`). Refused
   * credentials resolve `failure` `LC_ERR_SINK_AUTH`. @default none
   */
  sasl?: KafkaSaslOptions;
  /**
   * Builds the producer; called again after a connection loss (a fresh
   * client re-reads the bootstrap list). @default `client` via `brokers`
   */
  producer?: () => KafkaProducerLike;
  /** Default topic. Required. */
  topic: string;
  /** Use this record label's value as the topic when present. */
  topicLabel?: string;
  /** Topic per level (value of `levelLabel`), e.g. `{ error: 'logs-high' }`; checked before `topicLabel`. */
  topicByLevel?: Record<string, string>;
  /** Label holding the level. @default 'level' */
  levelLabel?: string;
  /** Message key from this label (same key → same partition); no key when absent. */
  keyLabel?: string;
  /**
   * Which dedup headers each message carries: `all` (`lc-batch-id`,
   * `lc-record-index`, `lc-record-id`), `record_id` (`lc-record-id` only:
   * what a consumer needs to drop retried duplicates) or `none`. With
   * librdkafka each header costs ~1 µs of CPU per message (the binding
   * reads every header object through V8), so `record_id` saves ~2 µs per
   * line and `none` also the record id hash. @default 'all'
   */
  dedupHeaders?: KafkaDedupHeaders;
  /** Message value format. @default 'json' (the JSON Lines form of the file sink) */
  format?: LineFormat;
  /**
   * Batch compression. kafkajs: `gzip`, `snappy` (`lz4` needs a codec
   * registered in kafkajs `CompressionCodecs`); librdkafka: all, `zstd`
   * when built with libzstd. @default 'none'
   */
  compression?: KafkaCompression;
  /** -1 all in-sync replicas, 1 leader, 0 none. @default -1 */
  acks?: -1 | 0 | 1;
  /** Broker ack timeout per send in ms; the write resolves retryable after it. @default 30000 */
  requestTimeoutMs?: number;
  /** Connection (TCP and TLS setup) timeout in ms. @default 3000 */
  connectionTimeoutMs?: number;
  /** Records whose message (key + value + headers) is bigger fail alone. @default 1000000 (Kafka's message.max.bytes) */
  maxMessageBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;
const DEDUP_HEADERS: readonly unknown[] = ['all', 'record_id', 'none'];

/**
 * A sink that produces one Kafka message per record through a narrow
 * {@link KafkaProducerLike} (kafkajs or librdkafka, see `client`). Headers `lc-batch-id`,
 * `lc-record-index` and `lc-record-id` (stable across retries) let
 * consumers deduplicate (see `dedupHeaders`). Connection loss resolves `retryable` and the
 * producer is rebuilt on the next write. After `shutdown`, `write`
 * resolves `failure` `LC_ERR_SHUT_DOWN`.
 */
export function createKafkaSink(options: KafkaSinkOptions): Sink {
  const name = options.name ?? 'kafka';
  if (typeof options.topic !== 'string' || options.topic === '')
    invalidOption(
      'createKafkaSink',
      'topic',
      'a non-empty string',
      options.topic,
    );
  if (
    options.producer === undefined &&
    (!Array.isArray(options.brokers) || options.brokers.length === 0)
  ) {
    invalidOption(
      'createKafkaSink',
      'brokers',
      'a non-empty array of host:port (or pass producer)',
      options.brokers,
    );
  }
  const compression = options.compression ?? 'none';
  const acks = options.acks ?? -1;
  if (acks !== -1 && acks !== 0 && acks !== 1)
    invalidOption('createKafkaSink', 'acks', '-1, 0 or 1', acks);
  const timeoutMs = validatePositive(
    'createKafkaSink',
    'requestTimeoutMs',
    options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
  const maxMessageBytes = validatePositive(
    'createKafkaSink',
    'maxMessageBytes',
    options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  );
  const dedupHeaders = options.dedupHeaders ?? 'all';
  if (!DEDUP_HEADERS.includes(dedupHeaders))
    invalidOption(
      'createKafkaSink',
      'dedupHeaders',
      "'all', 'record_id' or 'none'",
      dedupHeaders,
    );
  const format = lineFormatter(options.format ?? 'json');
  const levelLabel = options.levelLabel ?? 'level';
  const logger = options.logger ?? silentLogger;
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.warn({ err: error, sink: name }, 'kafka sink background error'));
  const metrics = createSinkMetrics(options.registry, 'kafka', name);
  const warnPermanent = permanentFailureWarner(logger, name, () => Date.now());
  const factory = kafkaProducerFactory(options, {
    name,
    acks,
    requestTimeoutMs: timeoutMs,
    logger,
  });
  const messageSettings = {
    sink: name,
    format,
    topicOf: (record: LogRecord) => topicOf(record),
    keyLabel: options.keyLabel,
    maxMessageBytes,
    dedupHeaders,
  };
  let closed = false;
  let current:
    { producer: KafkaProducerLike; ready: Promise<void> } | undefined;

  const producer = (): {
    producer: KafkaProducerLike;
    ready: Promise<void>;
  } => {
    if (current === undefined) {
      const p = factory();
      const ready = p.connect();
      ready.catch(() => undefined);
      current = { producer: p, ready };
    }
    return current;
  };
  /** Drop a broken client; the next write builds a new one. */
  const discard = (broken: { producer: KafkaProducerLike }): void => {
    if (current !== broken) return;
    current = undefined;
    broken.producer.disconnect().catch(onError);
  };

  const topicOf = (record: LogRecord): string => {
    const level = record.labels[levelLabel];
    const byLevel =
      level === undefined
        ? undefined
        : options.topicByLevel?.[level.toLowerCase()];
    if (byLevel !== undefined) return byLevel;
    const labelled =
      options.topicLabel === undefined
        ? undefined
        : record.labels[options.topicLabel];
    return labelled !== undefined && labelled !== '' ? labelled : options.topic;
  };

  const classify = (error: unknown) => classifyKafkaError(name, error);

  const writeBatch = async (
    batch: readonly LogRecord[],
    signal: AbortSignal,
  ): Promise<WriteResult> => {
    const { groups, failures } = kafkaMessages(batch, messageSettings);
    if (groups.size > 0) {
      const client = producer();
      let connectError: unknown;
      try {
        await withinDeadline(
          name,
          client.ready,
          signal,
          undefined,
          'write (while connecting)',
        );
      } catch (error) {
        connectError = error;
      }
      // A client whose connect failed (refused credentials too) is
      // unusable: the next write starts over with a new one.
      const broken =
        connectError !== undefined && !LcError.isInstance(connectError);
      const fail = (
        indexes: readonly number[],
        error: unknown,
        countRequest = true,
      ): void => {
        const c = classify(error);
        if (countRequest) metrics.request(c.error.code);
        if (c.reconnect || broken) discard(client);
        if (
          c.error.code === 'LC_ERR_SINK_TLS' ||
          (broken && c.error.code === 'LC_ERR_SINK_AUTH')
        )
          warnPermanent(c.error);
        for (const index of indexes)
          failures.push({ index, retryable: c.retryable, error: c.error });
      };
      await Promise.all(
        [...groups].map(async ([topic, group]) => {
          try {
            if (connectError !== undefined) throw connectError;
            const outcome = await withinDeadline(
              name,
              client.producer.send(topic, group.messages, {
                acks,
                timeoutMs,
                compression,
              }),
              signal,
              timeoutMs + 1000,
              'write',
            );
            if (outcome === undefined || outcome.failed.length === 0) {
              metrics.request('ok');
              return;
            }
            // Per-message delivery reports: only the refused records fail.
            outcome.failed.forEach((f, n) => {
              const index = group.indexes[f.index];
              if (index !== undefined) fail([index], f.error, n === 0);
            });
          } catch (error) {
            fail(group.indexes, error);
          }
        }),
      );
    }
    const failed = failures.filter((f) => !f.retryable).length;
    metrics.records('failed', failed);
    metrics.records('retryable', failures.length - failed);
    metrics.records('delivered', batch.length - failures.length);
    return WriteResults.partial(failures, batch.length);
  };

  const shutdown = once(async () => {
    closed = true;
    const last = current;
    current = undefined;
    if (last !== undefined) await last.producer.disconnect().catch(onError);
  });

  return {
    name,
    async write(batch, { signal }) {
      if (closed) return shutDownResult(name);
      if (batch.length === 0) return WriteResults.success();
      return writeBatch(batch, signal);
    },
    async flush() {
      // Every acknowledged write was acked by the broker per `acks`.
    },
    shutdown,
  };
}
