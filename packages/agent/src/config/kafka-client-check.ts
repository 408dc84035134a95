import { librdkafkaStatus } from '@lc/sinks';
import type { LibrdkafkaStatus } from '@lc/sinks';
import type { ConfigIssue } from './raw-config.js';
import type { AgentConfig } from './schema.js';

type KafkaSinkConfig = AgentConfig['sinks']['kafka'][number];

/** The client a `sinks.kafka` entry runs on: `auto` resolved. */
export function resolveKafkaClient(
  sink: Pick<KafkaSinkConfig, 'client'>,
  status: () => LibrdkafkaStatus = librdkafkaStatus,
): 'kafkajs' | 'librdkafka' {
  if (sink.client !== 'auto') return sink.client;
  return status().available ? 'librdkafka' : 'kafkajs';
}

/**
 * Problems of `sinks.kafka` that depend on the client: librdkafka asked for
 * but not installed, a compression the client cannot do, TLS settings
 * librdkafka has no equivalent for. Loads the native module only when a
 * sink may use it.
 */
export function kafkaClientIssues(
  config: AgentConfig,
  status: () => LibrdkafkaStatus = librdkafkaStatus,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.sinks.kafka.forEach((sink, i) => {
    const at = (key: string) => `sinks.kafka[${i}].${key}`;
    const client = resolveKafkaClient(sink, status);
    if (client === 'librdkafka') {
      const s = status();
      if (!s.available) {
        issues.push({
          path: at('client'),
          message: `"librdkafka" is not available (${s.reason}); ${s.hint}`,
        });
        return;
      }
      if (
        (sink.compression === 'zstd' || sink.compression === 'lz4') &&
        !s.features.includes(sink.compression)
      )
        issues.push({
          path: at('compression'),
          message: `"${sink.compression}" is not built into this librdkafka ${s.version} (it has: ${s.features.join(', ')})`,
        });
      if (sink.tls?.server_name !== undefined)
        issues.push({
          path: at('tls.server_name'),
          message:
            'not supported by client librdkafka (it verifies the broker by the host name it connects to); connect by a name the certificate holds, or set client: kafkajs',
        });
      if (sink.tls?.min_version === 'TLSv1.3')
        issues.push({
          path: at('tls.min_version'),
          message:
            'client librdkafka has no minimum TLS version setting; use "1.2" or set client: kafkajs',
        });
      return;
    }
    if (sink.compression === 'zstd' || sink.compression === 'lz4') {
      const s = sink.client === 'auto' ? status() : undefined;
      issues.push({
        path: at('compression'),
        message: `"${sink.compression}" needs client librdkafka${
          s !== undefined && !s.available
            ? `, which is not available (${s.reason}); ${s.hint}`
            : ''
        }`,
      });
    }
  });
  return issues;
}
