import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SinkTlsOptions } from '../check-sink-tls.js';

/**
 * librdkafka error codes (rdkafka.h) mapped to the Kafka protocol error
 * names that {@link classifyKafkaError} knows (the names kafkajs uses as
 * `type`). Codes not listed here are retryable.
 */
const TYPES: Readonly<Record<number, string>> = {
  2: 'CORRUPT_MESSAGE',
  10: 'MESSAGE_TOO_LARGE',
  17: 'INVALID_TOPIC_EXCEPTION',
  18: 'RECORD_LIST_TOO_LARGE',
  21: 'INVALID_REQUIRED_ACKS',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  31: 'CLUSTER_AUTHORIZATION_FAILED',
  33: 'UNSUPPORTED_SASL_MECHANISM',
  34: 'ILLEGAL_SASL_STATE',
  58: 'SASL_AUTHENTICATION_FAILED',
  76: 'UNSUPPORTED_COMPRESSION_TYPE',
  87: 'INVALID_RECORD',
  // Local: the message is bigger than message.max.bytes.
  [-141]: 'MESSAGE_TOO_LARGE',
  // Local: SASL authentication failed (refused credentials).
  [-169]: 'SASL_AUTHENTICATION_FAILED',
};

/** librdkafka's ERR__SSL: a TLS handshake or transport failure. */
export const RDKAFKA_ERR_SSL = -181;
/** librdkafka's ERR__AUTHENTICATION. */
export const RDKAFKA_ERR_AUTHENTICATION = -169;

/**
 * OpenSSL certificate verification results in librdkafka's handshake
 * message, mapped to the node error codes the TLS classifier explains.
 */
const VERIFY: ReadonlyArray<readonly [RegExp, string]> = [
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [
    /self[- ]signed certificate in certificate chain/i,
    'SELF_SIGNED_CERT_IN_CHAIN',
  ],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [
    /unable to get local issuer certificate/i,
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  ],
  [
    /unable to verify the first certificate/i,
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  ],
  [/certificate revoked/i, 'CERT_REVOKED'],
  [
    /hostname mismatch|does not match|IP address mismatch/i,
    'HOSTNAME_MISMATCH',
  ],
];

/** An error the sink's Kafka classifier understands. */
export interface MappedRdKafkaError extends Error {
  /** Kafka protocol error name, when the failure is one. */
  readonly type?: string;
  /** librdkafka's numeric code. */
  readonly rdkafkaCode: number;
  /** A node TLS code (`CERT_HAS_EXPIRED`, ...), for TLS failures. */
  readonly code?: string;
  readonly reason?: string;
}

/**
 * Wrap a librdkafka error (delivery report, connect, `event.error`) so that
 * the sink's classifier sees a protocol `type` for permanent and auth
 * failures and a node-style TLS code for certificate failures.
 */
export function mapRdKafkaError(
  error: unknown,
  context?: string,
): MappedRdKafkaError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const rdkafkaCode = typeof code === 'number' ? code : -1;
  const text = (error as Error | undefined)?.message ?? String(error);
  const message = context === undefined ? text : `${context}: ${text}`;
  const mapped = new Error(message, { cause: error }) as Error & {
    type?: string;
    rdkafkaCode: number;
    code?: string;
    reason?: string;
  };
  mapped.name = 'LibrdKafkaError';
  mapped.rdkafkaCode = rdkafkaCode;
  const type = TYPES[rdkafkaCode];
  if (type !== undefined) mapped.type = type;
  if (typeof code === 'string') {
    // A node TLS error (see explainTlsFailure): its code names the reason.
    mapped.code = code;
    mapped.reason = text;
  } else if (
    rdkafkaCode === RDKAFKA_ERR_SSL ||
    /SSL handshake failed/i.test(text)
  ) {
    const verify = VERIFY.find(([re]) => re.test(text));
    if (verify !== undefined) {
      mapped.code = verify[1];
      mapped.reason = text;
    } else if (
      !/SSL routines/.test(text) &&
      /certificate verify failed/i.test(text)
    ) {
      mapped.code = 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';
      mapped.reason = text;
    }
  }
  return mapped;
}

/**
 * A TLS or SASL failure in one of librdkafka's log lines (it logs them
 * and retries; no error event comes), as an error with librdkafka's code.
 */
export function securityFailureIn(message: string): Error | undefined {
  const text = message.replace(/^\[thrd:[^\]]*\]: /, '');
  let code: number | undefined;
  if (/SASL authentication error|SASL .*authentication failed/i.test(text))
    code = RDKAFKA_ERR_AUTHENTICATION;
  else if (/SSL handshake failed/i.test(text)) code = RDKAFKA_ERR_SSL;
  if (code === undefined) return undefined;
  return Object.assign(
    new Error(text.replace(/ \(after \d+ms in state [A-Z_]+.*\)$/, '')),
    {
      code,
    },
  );
}

/** What {@link explainTlsFailure} connects with. */
export interface TlsProbeSettings {
  readonly brokers: readonly string[];
  readonly tls?: SinkTlsOptions;
  readonly connectionTimeoutMs?: number;
}

/**
 * librdkafka says only "certificate verify failed". To name the reason
 * (untrusted CA, expired, wrong host name) one node TLS handshake with the
 * same CA and client certificate is made to the first broker; its error
 * becomes the cause. Anything else comes back unchanged.
 */
export async function explainTlsFailure(
  error: unknown,
  settings: TlsProbeSettings,
): Promise<unknown> {
  const message = (error as Error)?.message ?? '';
  const { tls } = settings;
  if (
    tls === undefined ||
    tls.insecureSkipVerify === true ||
    !/certificate verify failed/i.test(message)
  )
    return error;
  const broker = settings.brokers[0] ?? '';
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(at + 1));
  const probe = await new Promise<Error | undefined>((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      ...(tls.keyPassword === undefined ? {} : { passphrase: tls.keyPassword }),
      rejectUnauthorized: true,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, settings.connectionTimeoutMs ?? 3000);
    timer.unref();
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(e);
    });
  });
  if (probe === undefined) return error;
  return Object.assign(
    new Error(`${probe.message} (librdkafka: ${message})`, { cause: error }),
    { code: (probe as NodeJS.ErrnoException).code },
  );
}
