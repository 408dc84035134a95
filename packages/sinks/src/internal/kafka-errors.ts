import { hash } from 'node:crypto';
import { LcError } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { permanentTlsFailure } from './tls.js';

/** Kafka protocol errors that retrying the same record cannot fix. */
const PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'CORRUPT_MESSAGE',
  'INVALID_RECORD',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);
const AUTH_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
]);
/** kafkajs throws these without a protocol `type`. */
const AUTH_NAMES = new Set(['KafkaJSSASLAuthenticationError']);

type Chain = {
  type?: unknown;
  name?: unknown;
  cause?: unknown;
  originalError?: unknown;
};

function find(
  error: unknown,
  pick: (e: Chain) => string | undefined,
): string | undefined {
  let e = error as Chain | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const hit = pick(e);
    if (hit !== undefined) return hit;
    e = (e.originalError ?? e.cause) as Chain | undefined;
  }
  return undefined;
}

const errorType = (error: unknown): string | undefined =>
  find(error, (e) => (typeof e.type === 'string' ? e.type : undefined));

/** How one failed send or connect is reported. */
export interface KafkaFailure {
  readonly retryable: boolean;
  readonly error: LcError;
  /** Drop the client: the next write builds a new one. */
  readonly reconnect: boolean;
}

/**
 * Classify a kafkajs (or {@link LcError}) failure of sink `sink`: TLS
 * failures retrying cannot fix (`LC_ERR_SINK_TLS`), refused credentials or
 * ACLs (`LC_ERR_SINK_AUTH`) and records the broker will never take are
 * permanent; everything else (refused connections, timeouts, leader moves)
 * is retryable with a fresh client.
 */
export function classifyKafkaError(sink: string, error: unknown): KafkaFailure {
  if (LcError.isInstance(error))
    return {
      retryable: true,
      error,
      reconnect: error.code !== 'LC_ERR_ABORTED',
    };
  const text = (error as Error).message ?? String(error);
  const tls = permanentTlsFailure(error);
  if (tls !== undefined) {
    return {
      retryable: false,
      reconnect: true,
      error: new LcError({
        code: 'LC_ERR_SINK_TLS',
        message: `sink "${sink}": TLS handshake with the broker failed: ${tls}`,
        cause: error,
        details: { sink },
      }),
    };
  }
  const type = errorType(error);
  const authName = find(error, (e) =>
    typeof e.name === 'string' && AUTH_NAMES.has(e.name) ? e.name : undefined,
  );
  if ((type !== undefined && AUTH_TYPES.has(type)) || authName !== undefined) {
    return {
      retryable: false,
      reconnect: false,
      error: new LcError({
        code: 'LC_ERR_SINK_AUTH',
        message: `sink "${sink}": ${text} (check the sasl mechanism, username and password, and the ACLs)`,
        cause: error,
        details: { sink, type: type ?? authName },
      }),
    };
  }
  if (type !== undefined && PERMANENT_TYPES.has(type)) {
    const code =
      type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE'
        ? 'LC_ERR_RECORD_TOO_LARGE'
        : 'LC_ERR_SINK_REJECTED';
    return {
      retryable: false,
      reconnect: false,
      error: new LcError({
        code,
        message: `sink "${sink}": ${text}`,
        cause: error,
        details: { sink, type },
      }),
    };
  }
  // kafkajs marks some of these non-retriable, but the same records can
  // succeed later.
  return {
    retryable: true,
    reconnect: true,
    error: new LcError({
      code: 'LC_ERR_SINK_UNAVAILABLE',
      message: `sink "${sink}": ${text}`,
      cause: error,
      details: { sink, type },
    }),
  };
}

/**
 * A short stable id for a record, so consumers can deduplicate retries
 * (sha1 of source, cursor, timestamp and line; the one-shot `hash` costs
 * half of a `createHash` object per record).
 */
export function recordId(record: LogRecord): string {
  return hash(
    'sha1',
    `${record.source.kind}\u0000${record.source.id}\u0000${JSON.stringify(record.cursor ?? null)}\u0000${record.timestampMs}.${record.timestampNanos}\u0000${record.line}`,
    'base64url',
  ).slice(0, 22);
}
