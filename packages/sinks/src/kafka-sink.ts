import { createHash } from 'node:crypto';
import {
  LcError,
  once,
  shutDownResult,
  silentLogger,
  WriteResults,
} from '@lc/core';
import type {
  Instrumentation,
  LogRecord,
  RecordFailure,
  Sink,
  WriteResult,
} from '@lc/core';
import type { SinkTlsOptions } from './check-sink-tls.js';
import { lineFormatter } from './internal/format-record.js';
import { classifyKafkaError, recordId } from './internal/kafka-errors.js';
import type { LineFormat } from './internal/format-record.js';
import { createSinkMetrics } from './internal/sink-metrics.js';
import { kafkaTls } from './internal/kafka-security.js';
import { permanentFailureWarner } from './internal/tls.js';
import { invalidOption, validatePositive } from './internal/validate.js';
import { createKafkaJsProducer, kafkaJsSupports } from './kafka-producer.js';
import type {
  KafkaCompression,
  KafkaOutgoingMessage,
  KafkaProducerLike,
} from './kafka-producer.js';

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
  /** Bootstrap brokers for the built-in kafkajs producer. Required unless `producer` is given. */
  brokers?: string[];
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
   * client re-reads the bootstrap list). @default kafkajs via `brokers`
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
  /** Message value format. @default 'json' (the JSON Lines form of the file sink) */
  format?: LineFormat;
  /** @default 'none' (`lz4` needs a codec registered in kafkajs `CompressionCodecs`) */
  compression?: KafkaCompression;
  /** -1 all in-sync replicas, 1 leader, 0 none. @default -1 */
  acks?: -1 | 0 | 1;
  /** Broker ack timeout per send in ms; the write resolves retryable after it. @default 30000 */
  requestTimeoutMs?: number;
  /** Connection timeout in ms (kafkajs). @default 3000 */
  connectionTimeoutMs?: number;
  /** Records whose message (key + value + headers) is bigger fail alone. @default 1000000 (Kafka's message.max.bytes) */
  maxMessageBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;

/**
 * A sink that produces one Kafka message per record through a narrow
 * {@link KafkaProducerLike} (kafkajs by default). Headers `lc-batch-id`,
 * `lc-record-index` and `lc-record-id` (stable across retries) let
 * consumers deduplicate. Connection loss resolves `retryable` and the
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
  if (!['none', 'gzip', 'snappy', 'lz4'].includes(compression))
    invalidOption(
      'createKafkaSink',
      'compression',
      "'none', 'gzip', 'snappy' or 'lz4'",
      compression,
    );
  if (options.producer === undefined && !kafkaJsSupports(compression)) {
    invalidOption(
      'createKafkaSink',
      'compression',
      'a codec registered in kafkajs CompressionCodecs (lz4 needs one)',
      compression,
    );
  }
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
  const format = lineFormatter(options.format ?? 'json');
  const levelLabel = options.levelLabel ?? 'level';
  const logger = options.logger ?? silentLogger;
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.warn({ err: error, sink: name }, 'kafka sink background error'));
  const metrics = createSinkMetrics(options.registry, 'kafka', name);
  const ssl = kafkaTls(name, options, logger);
  const warnPermanent = permanentFailureWarner(logger, name, () => Date.now());
  const factory =
    options.producer ??
    (() =>
      createKafkaJsProducer({
        brokers: options.brokers as string[],
        clientId: options.clientId,
        ...(ssl === undefined ? {} : { ssl }),
        ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
        connectionTimeoutMs: options.connectionTimeoutMs,
        logger,
      }));
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

  const sendWithin = async (
    p: KafkaProducerLike,
    topic: string,
    messages: KafkaOutgoingMessage[],
    signal: AbortSignal,
  ): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LcError({
              code: 'LC_ERR_TIMEOUT',
              message: `sink "${name}": no ack within ${timeoutMs} ms`,
              details: { timeoutMs },
            }),
          ),
        timeoutMs + 1000,
      );
      timer.unref();
      onAbort = () =>
        reject(
          new LcError({
            code: 'LC_ERR_ABORTED',
            message: `sink "${name}": write aborted`,
          }),
        );
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const send = p.send(topic, messages, { acks, timeoutMs, compression });
    send.catch(() => undefined);
    try {
      await Promise.race([send, guard]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  };

  const writeBatch = async (
    batch: readonly LogRecord[],
    signal: AbortSignal,
  ): Promise<WriteResult> => {
    const failures: RecordFailure[] = [];
    const ids = batch.map(recordId);
    const batchId = createHash('sha1')
      .update(`${batch.length}\u0000${ids[0]}\u0000${ids[ids.length - 1]}`)
      .digest('base64url')
      .slice(0, 22);
    const batchIdHeader = Buffer.from(batchId);
    const byTopic = new Map<
      string,
      { indexes: number[]; messages: KafkaOutgoingMessage[] }
    >();
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i] as LogRecord;
      const keyText =
        options.keyLabel === undefined
          ? undefined
          : record.labels[options.keyLabel];
      const message: KafkaOutgoingMessage = {
        key: keyText === undefined ? null : Buffer.from(keyText),
        value: Buffer.from(format(record)),
        headers: {
          'lc-batch-id': batchIdHeader,
          'lc-record-index': Buffer.from(String(i)),
          'lc-record-id': Buffer.from(ids[i] as string),
        },
        timestamp: String(record.timestampMs),
      };
      // Record batch overhead per message is ~70 bytes plus header names.
      const size = message.value.length + (message.key?.length ?? 0) + 120;
      if (size > maxMessageBytes) {
        failures.push({
          index: i,
          retryable: false,
          error: new LcError({
            code: 'LC_ERR_RECORD_TOO_LARGE',
            message: `sink "${name}": record ${i} is ${size} bytes as a message, over maxMessageBytes (${maxMessageBytes})`,
            details: { sink: name, size, maxMessageBytes },
          }),
        });
        continue;
      }
      const topic = topicOf(record);
      const group = byTopic.get(topic);
      if (group === undefined)
        byTopic.set(topic, { indexes: [i], messages: [message] });
      else {
        group.indexes.push(i);
        group.messages.push(message);
      }
    }
    if (byTopic.size > 0) {
      const client = producer();
      let connectError: unknown;
      try {
        await sendWithinReady(client.ready, signal);
      } catch (error) {
        connectError = error;
      }
      await Promise.all(
        [...byTopic].map(async ([topic, group]) => {
          try {
            if (connectError !== undefined) throw connectError;
            await sendWithin(client.producer, topic, group.messages, signal);
            metrics.request('ok');
          } catch (error) {
            const c = classify(error);
            metrics.request(c.error.code);
            // A client whose connect failed (refused credentials too) is
            // unusable: the next write starts over with a new one.
            const broken =
              connectError !== undefined && !LcError.isInstance(connectError);
            if (c.reconnect || broken) discard(client);
            if (
              c.error.code === 'LC_ERR_SINK_TLS' ||
              (broken && c.error.code === 'LC_ERR_SINK_AUTH')
            )
              warnPermanent(c.error);
            for (const index of group.indexes)
              failures.push({ index, retryable: c.retryable, error: c.error });
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

  const sendWithinReady = async (
    ready: Promise<void>,
    signal: AbortSignal,
  ): Promise<void> => {
    if (signal.aborted)
      throw new LcError({
        code: 'LC_ERR_ABORTED',
        message: `sink "${name}": write aborted`,
      });
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          onAbort = () =>
            reject(
              new LcError({
                code: 'LC_ERR_ABORTED',
                message: `sink "${name}": write aborted while connecting`,
              }),
            );
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
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
