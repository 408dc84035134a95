import {
  loadRdKafka,
  RDKAFKA_INSTALL_HINT,
} from './internal/kafka-rdkafka-binding.js';

/** Whether the optional librdkafka client can be used, as {@link librdkafkaStatus} reports it. */
export type LibrdkafkaStatus =
  | {
      readonly available: true;
      /** librdkafka's version, e.g. `2.15.1`. */
      readonly version: string;
      /** What it was built with (`gzip`, `snappy`, `lz4`, `zstd`, `ssl`, `sasl_scram`, ...). */
      readonly features: readonly string[];
    }
  | {
      readonly available: false;
      /** Why not (not installed, or the native module did not load). */
      readonly reason: string;
      /** How to install it. */
      readonly hint: string;
    };

/**
 * Load the optional `@confluentinc/kafka-javascript` module (once) and say
 * whether the Kafka sink's `client: 'librdkafka'` can be used. Never throws.
 */
export function librdkafkaStatus(): LibrdkafkaStatus {
  const load = loadRdKafka();
  return load.ok
    ? {
        available: true,
        version: load.module.librdkafkaVersion,
        features: [...load.module.features],
      }
    : { available: false, reason: load.reason, hint: RDKAFKA_INSTALL_HINT };
}
