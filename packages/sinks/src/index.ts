// Public API of @lc/sinks. List exports by name (STYLE.md rule 3).
export { createLokiSink } from './loki-sink.js';
export type { LokiSinkOptions } from './loki-sink.js';
export { createFileSink } from './file-sink.js';
export type { FileRotationOptions, FileSinkOptions } from './file-sink.js';
export { createKafkaSink } from './kafka-sink.js';
export type {
  KafkaClientName,
  KafkaDedupHeaders,
  KafkaSaslOptions,
  KafkaSinkOptions,
} from './kafka-sink.js';
export { createKafkaJsProducer } from './kafka-producer.js';
export type {
  KafkaCompression,
  KafkaJsProducerOptions,
  KafkaOutgoingMessage,
  KafkaProducerLike,
  KafkaSendFailure,
  KafkaSendOptions,
  KafkaSendOutcome,
} from './kafka-producer.js';
export { createRdKafkaProducer } from './kafka-rdkafka-producer.js';
export type { RdKafkaProducerOptions } from './kafka-rdkafka-producer.js';
export { librdkafkaStatus } from './librdkafka-status.js';
export type { LibrdkafkaStatus } from './librdkafka-status.js';
export { createStdoutSink } from './stdout-sink.js';
export type { StdoutSinkOptions } from './stdout-sink.js';
export { createHttpSink } from './http-sink.js';
export type { HttpSinkOptions } from './http-sink.js';
export { checkSinkTls } from './check-sink-tls.js';
export type {
  SinkTlsOptions,
  TlsMinVersion,
  TlsOptionProblem,
} from './check-sink-tls.js';
export { createOtlpSink } from './otlp-sink.js';
export type { OtlpSinkOptions } from './otlp-sink.js';
export { OTLP_DEFAULTS } from './otlp-defaults.js';
