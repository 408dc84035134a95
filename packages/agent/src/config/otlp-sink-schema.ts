import { OTLP_DEFAULTS } from '@lc/sinks';
import { z } from 'zod';
import { describeValue } from '../internal/describe-value.js';
import {
  duration,
  httpUrl,
  section,
  size,
  stringMap,
} from './schema-helpers.js';
import { tlsSection } from './sink-security-schema.js';

const keyList = (defaults: readonly string[], description: string) =>
  z
    .array(z.string().min(1))
    .default([...defaults])
    .describe(description);

const nameMap = (
  defaults: Readonly<Record<string, string>>,
  description: string,
) =>
  z
    .record(z.string().min(1), z.string().min(1))
    .default({ ...defaults })
    .describe(description);

/**
 * `sinks.otlp[]`: OTLP/HTTP logs export. Built from the sink-common keys
 * (`name`, `match`) of schema.ts so every sink type shares them.
 */
export function otlpSinkSection<T extends z.ZodRawShape>(sinkCommon: T) {
  return section({
    ...sinkCommon,
    endpoint: httpUrl(
      'OTLP/HTTP base URL (http://collector:4318); /v1/logs is appended. Give this or logs_endpoint.',
    ).optional(),
    logs_endpoint: httpUrl(
      'Full logs URL used as is (https://otlp.example.com/otlp/v1/logs). Give this or endpoint.',
    ).optional(),
    encoding: z
      .enum(['protobuf', 'json'])
      .default('protobuf')
      .describe('Body encoding: OTLP protobuf or OTLP/JSON.'),
    compression: z
      .enum(['gzip', 'none'])
      .default('gzip')
      .describe('Body compression.'),
    headers: stringMap(
      'Extra HTTP headers, e.g. authorization (may hold secrets: use ${VAR}).',
    ),
    timeout: duration(10_000, 'Request timeout.'),
    resource_labels: nameMap(
      OTLP_DEFAULTS.resourceLabels,
      'Labels that form the resource: label → resource attribute, in precedence order (first label present for a name wins). Replaces the default map; {} puts every label on the log records.',
    ),
    resource_attributes: stringMap(
      'Resource attributes for names no label provides (e.g. service.name).',
    ),
    attribute_names: nameMap(
      OTLP_DEFAULTS.attributeNames,
      'Renames of labels and metadata that become log attributes. Replaces the default map.',
    ),
    severity_keys: keyList(
      OTLP_DEFAULTS.severityKeys,
      'Metadata/label keys holding the level (first present sets SeverityText and SeverityNumber).',
    ),
    trace_id_keys: keyList(
      OTLP_DEFAULTS.traceIdKeys,
      'Keys holding a hex trace id (32 digits).',
    ),
    span_id_keys: keyList(
      OTLP_DEFAULTS.spanIdKeys,
      'Keys holding a hex span id (16 digits).',
    ),
    traceparent_keys: keyList(
      OTLP_DEFAULTS.traceparentKeys,
      'Keys holding a W3C traceparent (wins over the id keys).',
    ),
    partial_success: z
      .enum(['log', 'dlq'])
      .default('log')
      .describe(
        'Records a 2xx answer reports rejected (partial_success): log = count (lc_sink_otlp_rejected_records_total) and warn, the request counts as delivered; dlq = dead-letter the whole request (OTLP does not say which records; replay duplicates the accepted ones).',
      ),
    max_request_bytes: size(
      4 * 1024 * 1024,
      'Largest uncompressed body; bigger batches are split.',
    ),
    tls: tlsSection('endpoint'),
  }).check((ctx) => {
    const {
      endpoint,
      logs_endpoint: logs,
      tls,
    } = ctx.value as {
      endpoint?: string;
      logs_endpoint?: string;
      tls?: unknown;
    };
    const url = endpoint ?? logs;
    if (tls !== undefined && url !== undefined && !url.startsWith('https:')) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['tls'],
        message: `needs an https:// endpoint, got ${describeValue(url)}`,
      });
    }
    if ((endpoint === undefined) === (logs === undefined)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: ['endpoint'],
        message:
          endpoint === undefined
            ? 'give endpoint (base URL, /v1/logs is appended) or logs_endpoint (full URL)'
            : 'give endpoint or logs_endpoint, not both',
      });
    }
  });
}
