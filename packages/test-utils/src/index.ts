export { agentChildEnv } from './child-env.js';
export {
  serviceEnv,
  servicesRequired,
  serviceUnavailableReason,
  skipWithout,
  workspaceRoot,
} from './services.js';
export type { ServiceEnv, ServiceName } from './services.js';
export { createTempDir } from './temp-dir.js';
export type { TempDir } from './temp-dir.js';
export { shebangNodeFlags } from './node-flags.js';
export { createTestPki } from './test-pki.js';
export type { TestCert, TestPki } from './test-pki.js';
export { startKafkaSecureProxy } from './kafka-secure-proxy.js';
export type {
  KafkaSecureProxy,
  KafkaSecureProxyOptions,
} from './kafka-secure-proxy.js';
export {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  otlpLogsService,
} from './otlp-decoder.js';
export type {
  DecodedOtlpRecord,
  DecodedOtlpResourceLogs,
} from './otlp-decoder.js';
export { createOtlpTestServer } from './otlp-test-server.js';
export type {
  OtlpTestResponse,
  OtlpTestServer,
  OtlpTestServerOptions,
  ReceivedOtlpRequest,
} from './otlp-test-server.js';
export { startKubernetesTestApi } from './kubernetes-test-api.js';
export type {
  KubernetesTestApi,
  KubernetesTestApiOptions,
  KubernetesTestRequest,
  TestPod,
} from './kubernetes-test-api.js';
