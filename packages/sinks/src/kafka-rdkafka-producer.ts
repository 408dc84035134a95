import { LcError, silentLogger } from '@lc/core';
import type { Logger } from '@lc/core';
import type { SinkTlsOptions } from './check-sink-tls.js';
import {
  loadRdKafka,
  RDKAFKA_INSTALL_HINT,
} from './internal/kafka-rdkafka-binding.js';
import type {
  RdKafkaConfig,
  RdKafkaError,
  RdKafkaNativeProducer,
} from './internal/kafka-rdkafka-binding.js';
import { rdKafkaConfig } from './internal/kafka-rdkafka-config.js';
import { rdKafkaHeadersOf, timestampMsOf } from './internal/kafka-messages.js';
import {
  explainTlsFailure,
  mapRdKafkaError,
  RDKAFKA_ERR_AUTHENTICATION,
  RDKAFKA_ERR_SSL,
  securityFailureIn,
} from './internal/kafka-rdkafka-errors.js';
import type {
  KafkaCompression,
  KafkaProducerLike,
  KafkaSendFailure,
} from './kafka-producer.js';
import type { KafkaSaslOptions } from './kafka-sink.js';

/** Options of {@link createRdKafkaProducer}. */
export interface RdKafkaProducerOptions {
  /** Bootstrap brokers, `host:port`. Required. */
  brokers: string[];
  /** @default 'lc' */
  clientId?: string;
  /** -1 all in-sync replicas, 1 leader, 0 none (librdkafka `acks`). @default -1 */
  acks?: -1 | 0 | 1;
  /** librdkafka `compression.codec`. @default 'none' */
  compression?: KafkaCompression;
  /**
   * Delivery timeout per message in ms (`message.timeout.ms`): a message
   * not acknowledged by then fails its send. @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * TCP (and TLS) connection setup timeout in ms; `connect()` gives up
   * after three times this. @default 3000
   */
  connectionTimeoutMs?: number;
  /** TLS, validated by the caller (the Kafka sink checks it). */
  tls?: SinkTlsOptions;
  /** SASL PLAIN or SCRAM credentials. */
  sasl?: KafkaSaslOptions;
  /** Where librdkafka's warnings and errors go. @default silentLogger */
  logger?: Logger;
  /** Extra librdkafka properties, merged last (CONFIGURATION.md names). */
  config?: RdKafkaConfig;
}

/** How long a clean disconnect waits for queued messages, ms. */
const DISCONNECT_FLUSH_MS = 5_000;
/** Hard bound on disconnect (librdkafka's destroy can hang on a dead broker). */
const DISCONNECT_BOUND_MS = 10_000;

interface Pending {
  /**
   * The send's messages carry the opaques `base` … `base + count - 1`: a
   * number per message, not an object (the binding holds a persistent
   * handle per opaque until its delivery report; a handle to a number
   * costs the garbage collector nothing).
   */
  readonly base: number;
  readonly count: number;
  left: number;
  readonly failed: KafkaSendFailure[];
  readonly resolve: (value: { failed: KafkaSendFailure[] } | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** Opaques wrap around here (small integers stay unboxed in V8). */
const MAX_OPAQUE = 2 ** 30;

/**
 * A {@link KafkaProducerLike} on librdkafka through the optional
 * `@confluentinc/kafka-javascript` package (its rdkafka-style API). Acks,
 * compression and the delivery timeout are fixed at construction; `send`
 * resolves when every message has its delivery report, listing the
 * messages the broker or client refused. Throws `LC_ERR_INVALID_OPTION`
 * when the package is not installed or the configuration is refused.
 */
export function createRdKafkaProducer(
  options: RdKafkaProducerOptions,
): KafkaProducerLike {
  const load = loadRdKafka();
  if (!load.ok)
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `createRdKafkaProducer: ${load.reason}; ${RDKAFKA_INSTALL_HINT}`,
      details: { option: 'client' },
    });
  const logger = options.logger ?? silentLogger;
  const acks = options.acks ?? -1;
  const compression = options.compression ?? 'none';
  const connectionTimeoutMs = options.connectionTimeoutMs ?? 3000;
  const config: RdKafkaConfig = {
    ...rdKafkaConfig({
      brokers: options.brokers,
      clientId: options.clientId ?? 'lc',
      acks,
      compression,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      connectionTimeoutMs,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    }),
    ...options.config,
  };
  let native: RdKafkaNativeProducer;
  try {
    native = new load.module.Producer(config);
  } catch (error) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `createRdKafkaProducer: librdkafka refused the configuration: ${(error as Error).message}`,
      cause: error,
      details: { option: 'config' },
    });
  }
  // Sends waiting for delivery reports, oldest first: a report is found by
  // its opaque's range, nearly always in the first entry or two.
  const pending: Pending[] = [];
  let nextOpaque = 0;
  // The last TLS or authentication error librdkafka reported: a failed
  // connect only says "transport failure", this says why.
  let lastSecurityError: RdKafkaError | Error | undefined;
  let closed = false;

  native.on('event.error', (error) => {
    if (
      error.code === RDKAFKA_ERR_SSL ||
      error.code === RDKAFKA_ERR_AUTHENTICATION
    )
      securityFailure(error);
    safely(() =>
      logger.warn({ err: error, code: error.code }, 'librdkafka error'),
    );
  });
  native.on('event.log', (log) => {
    // librdkafka reports refused TLS handshakes and SASL credentials as
    // log lines (and retries them forever): they end a connect at once.
    const security = securityFailureIn(log.message);
    if (security !== undefined) securityFailure(security);
    safely(() => {
      // Syslog levels. librdkafka logs refused connections at 3 (error)
      // and retries them: for the agent they are warnings (the dispatcher
      // reports the failed writes).
      if (log.severity <= 2) logger.error({ librdkafka: log.fac }, log.message);
      else if (log.severity <= 4)
        logger.warn({ librdkafka: log.fac }, log.message);
      else logger.debug({ librdkafka: log.fac }, log.message);
    });
  });
  native.on('delivery-report', (error, report) => {
    const opaque = report.opaque;
    if (typeof opaque !== 'number') return;
    for (let n = 0; n < pending.length; n++) {
      const p = pending[n] as Pending;
      const index = opaque - p.base;
      if (index < 0 || index >= p.count) continue;
      if (error !== null)
        p.failed.push({ index, error: mapRdKafkaError(error) });
      if (--p.left === 0) settle(p);
      return;
    }
  });

  const settle = (p: Pending): void => {
    const n = pending.indexOf(p);
    if (n !== -1) pending.splice(n, 1);
    p.resolve(p.failed.length === 0 ? undefined : { failed: p.failed });
  };

  let connecting: Promise<void> | undefined;
  let failConnect: ((error: unknown) => void) | undefined;
  const securityFailure = (error: RdKafkaError | Error): void => {
    lastSecurityError ??= error;
    failConnect?.(error);
  };
  const connect = (): Promise<void> => {
    connecting ??= new Promise<void>((resolve, reject) => {
      let settled = false;
      failConnect = (error) => {
        if (settled) return;
        settled = true;
        failConnect = undefined;
        // Stop librdkafka retrying a handshake that cannot succeed.
        closed = true;
        try {
          if (native.isConnected()) native.disconnect(0, () => undefined);
        } catch {
          // Not connected yet: librdkafka's own connect failure ends it.
        }
        void explainTlsFailure(error, options).then((explained) =>
          reject(mapRdKafkaError(explained, 'connect')),
        );
      };
      native.connect(
        { timeout: connectionTimeoutMs * 3, allTopics: false },
        (error) => {
          if (settled) return;
          settled = true;
          failConnect = undefined;
          if ((error === null || error === undefined) && closed) {
            // disconnect() came while connecting: do not leave a live
            // client behind.
            native.disconnect(0, () => undefined);
            reject(
              new LcError({
                code: 'LC_ERR_SHUT_DOWN',
                message: 'librdkafka producer disconnected while connecting',
              }),
            );
            return;
          }
          if (error === null || error === undefined) {
            // librdkafka's own background thread serves delivery reports:
            // no JS timer polls.
            native.setPollInBackground(true);
            resolve();
            return;
          }
          reject(mapRdKafkaError(lastSecurityError ?? error, 'connect'));
        },
      );
    });
    return connecting;
  };

  return {
    connect,
    async send(topic, messages, sendOptions) {
      if (closed || !native.isConnected())
        throw new LcError({
          code: 'LC_ERR_SINK_UNAVAILABLE',
          message: 'librdkafka producer is not connected',
        });
      if (sendOptions.acks !== acks || sendOptions.compression !== compression)
        throw new LcError({
          code: 'LC_ERR_INVALID_OPTION',
          message: `createRdKafkaProducer: send asked for acks ${sendOptions.acks} / compression ${sendOptions.compression}, the producer was built with ${acks} / ${compression}`,
        });
      if (messages.length === 0) return undefined;
      return new Promise((resolve, reject) => {
        if (nextOpaque + messages.length > MAX_OPAQUE) nextOpaque = 0;
        const base = nextOpaque;
        nextOpaque += messages.length;
        const p: Pending = {
          base,
          count: messages.length,
          left: messages.length,
          failed: [],
          resolve,
          reject,
        };
        pending.push(p);
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i] as (typeof messages)[number];
          try {
            native.produce(
              topic,
              null,
              m.value,
              m.key,
              timestampMsOf(m),
              base + i,
              rdKafkaHeadersOf(m),
            );
          } catch (error) {
            // QUEUE_FULL, too large for message.max.bytes, unknown topic:
            // no delivery report will come for this one.
            p.failed.push({
              index: i,
              error: mapRdKafkaError(error as RdKafkaError),
            });
            p.left--;
          }
        }
        if (p.left === 0) settle(p);
      });
    },
    async disconnect() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        const bound = setTimeout(resolve, DISCONNECT_BOUND_MS);
        bound.unref();
        const done = (): void => {
          clearTimeout(bound);
          resolve();
        };
        if (!native.isConnected()) {
          done();
          return;
        }
        try {
          native.disconnect(DISCONNECT_FLUSH_MS, done);
        } catch {
          done();
        }
      });
      // librdkafka drops its callbacks on disconnect: what was not reported
      // by now never will be, and which of those got through is unknown.
      const error = new LcError({
        code: 'LC_ERR_SINK_UNAVAILABLE',
        message:
          'librdkafka producer disconnected before every message of the send was acknowledged',
      });
      for (const p of pending.splice(0)) p.reject(error);
    },
  };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A failing logger must not take the producer down.
  }
}
