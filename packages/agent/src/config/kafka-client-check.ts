import { librdkafkaStatus } from '@lc/sinks';
import type { LibrdkafkaStatus } from '@lc/sinks';
import type { ConfigIssue } from './raw-config.js';
import type { AgentConfig } from './schema.js';

type KafkaSinkConfig = AgentConfig['sinks']['kafka'][number];

/** Why librdkafka cannot serve this sink's settings, or `undefined`. */
function librdkafkaGap(sink: Pick<KafkaSinkConfig, 'tls'>): string | undefined {
  if (sink.tls?.server_name !== undefined) return 'tls.server_name';
  if (sink.tls?.min_version === 'TLSv1.3') return 'tls.min_version "1.3"';
  return undefined;
}

/**
 * The client a `sinks.kafka` entry runs on, with the reason for `auto`:
 * librdkafka when it is installed and can serve the sink's TLS settings,
 * else kafkajs (so an existing config never breaks by installing it).
 */
export function resolveKafkaClient(
  sink: Pick<KafkaSinkConfig, 'client' | 'tls'>,
  status: () => LibrdkafkaStatus = librdkafkaStatus,
): { client: 'kafkajs' | 'librdkafka'; why: string } {
  if (sink.client !== 'auto') return { client: sink.client, why: 'configured' };
  const gap = librdkafkaGap(sink);
  if (gap !== undefined)
    return {
      client: 'kafkajs',
      why: `client: auto; ${gap} needs kafkajs`,
    };
  return status().available
    ? {
        client: 'librdkafka',
        why: 'client: auto; the native module is installed',
      }
    : {
        client: 'kafkajs',
        why: 'client: auto; the native module is not installed',
      };
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
    const { client } = resolveKafkaClient(sink, status);
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
