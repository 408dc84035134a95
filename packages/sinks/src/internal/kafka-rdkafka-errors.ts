import type { RdKafkaError } from './kafka-rdkafka-binding.js';

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
  error: RdKafkaError | Error,
  context?: string,
): MappedRdKafkaError {
  const rdkafkaCode =
    typeof (error as RdKafkaError).code === 'number'
      ? (error as RdKafkaError).code
      : -1;
  const text = error.message ?? String(error);
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
  if (rdkafkaCode === RDKAFKA_ERR_SSL || /SSL handshake failed/i.test(text)) {
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
