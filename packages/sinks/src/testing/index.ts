// Test doubles of @lc/sinks (STYLE.md rule 20).
export { createLokiTestServer } from './loki-test-server.js';
export type {
  LokiTestResponse,
  LokiTestServer,
  LokiTestServerOptions,
  ReceivedLokiPush,
  StoredLokiEntry,
} from './loki-test-server.js';
export { decodeJsonPush, decodePushRequest } from './loki-push-decoder.js';
export type {
  DecodedLokiEntry,
  DecodedLokiStream,
} from './loki-push-decoder.js';
export { parseLokiLabels } from './parse-loki-labels.js';
export { encodePushRequest } from '../internal/loki-proto.js';
export type { LokiEntry, LokiStream } from '../internal/loki-proto.js';
export { encodeExportLogsRequest } from '../internal/otlp-proto.js';
export type {
  OtlpAttributeSet,
  OtlpInstant,
  OtlpKeyValue,
  OtlpLogRecord,
  OtlpResourceLogs,
} from '../internal/otlp-proto.js';
