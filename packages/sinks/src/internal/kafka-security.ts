import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '@lc/core';
import type { KafkaSinkOptions } from '../kafka-sink.js';
import { resolveTls } from './tls.js';
import { invalidOption } from './validate.js';

const SASL_MECHANISMS: readonly string[] = [
  'plain',
  'scram-sha-256',
  'scram-sha-512',
];

/**
 * Validate the Kafka sink's `tls` and `sasl` (throws `LC_ERR_INVALID_OPTION`
 * naming the option); the node TLS options for kafkajs, if any. Warns about
 * SASL PLAIN without TLS (the password crosses the network in clear).
 */
export function kafkaTls(
  name: string,
  options: Pick<KafkaSinkOptions, 'producer' | 'sasl' | 'tls'>,
  logger: Logger,
): ConnectionOptions | undefined {
  const { sasl, tls } = options;
  if (
    options.producer !== undefined &&
    (tls !== undefined || sasl !== undefined)
  )
    invalidOption(
      'createKafkaSink',
      tls === undefined ? 'sasl' : 'tls',
      'unset when producer is given (configure your own producer)',
      '(set)',
    );
  if (sasl !== undefined) {
    if (typeof sasl !== 'object' || sasl === null)
      invalidOption('createKafkaSink', 'sasl', 'an object', sasl);
    if (!SASL_MECHANISMS.includes(sasl.mechanism))
      invalidOption(
        'createKafkaSink',
        'sasl.mechanism',
        "'plain', 'scram-sha-256' or 'scram-sha-512'",
        sasl.mechanism,
      );
    for (const key of ['username', 'password'] as const) {
      if (typeof sasl[key] !== 'string' || sasl[key] === '')
        invalidOption(
          'createKafkaSink',
          `sasl.${key}`,
          'a non-empty string',
          key === 'password' ? typeof sasl[key] : sasl[key],
        );
    }
    if (sasl.mechanism === 'plain' && tls === undefined)
      logger.warn(
        { sink: name },
        `sink "${name}": SASL PLAIN without tls sends the password in clear text; set tls (SASL_SSL) or use scram-sha-512`,
      );
  }
  return tls === undefined
    ? undefined
    : resolveTls('createKafkaSink', name, tls, logger);
}
