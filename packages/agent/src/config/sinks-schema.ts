import { z } from 'zod';
import {
  duration,
  flag,
  httpUrl,
  positiveInt,
  section,
  size,
  stringMap,
} from './schema-helpers.js';
import { kafkaSink } from './kafka-sink-schema.js';
import { otlpSinkSection } from './otlp-sink-schema.js';
import { sinkCommon, sinkName } from './sink-common-schema.js';
import {
  checkHttpSinkSecurity,
  httpSecretFiles,
  tlsSection,
} from './sink-security-schema.js';

const MiB = 1024 * 1024;

const lokiSink = section({
  ...sinkCommon,
  url: httpUrl('Loki base URL (http://loki:3100) or full push URL.'),
  tenant_id: z.string().optional().describe('X-Scope-OrgID header.'),
  encoding: z
    .enum(['protobuf', 'json'])
    .default('protobuf')
    .describe('Push encoding.'),
  labels: stringMap('Static labels added to every stream.'),
  headers: stringMap('Extra HTTP headers.'),
  username: z.string().optional().describe('Basic auth user.'),
  password: z.string().optional().describe('Basic auth password (secret).'),
  bearer_token: z.string().optional().describe('Bearer token (secret).'),
  ...httpSecretFiles,
  timeout: duration(30_000, 'Request timeout.'),
  tls: tlsSection('URL'),
}).check(checkHttpSinkSecurity);

const fileSink = section({
  ...sinkCommon,
  path_template: z
    .string()
    .optional()
    .describe(
      'File path under directory; placeholders {source}, {source_kind}, {file_name}, {container_name}, {date}, {hour}, {label:NAME}. @default "{source_kind}-{source}.log"',
    ),
  directory: z.string().min(1).describe('Output directory.'),
  format: z
    .enum(['json', 'text'])
    .default('json')
    .describe('JSON Lines or raw lines.'),
  max_file_bytes: size(128 * MiB, 'Rotate the output file at this size.'),
  max_files: positiveInt(10, 'Rotated files kept.'),
  fsync: flag(false, 'fsync after every batch.'),
});

const stdoutSink = section({
  ...sinkCommon,
  format: z.enum(['json', 'text']).default('json').describe('Output format.'),
});

const httpSink = section({
  ...sinkCommon,
  url: httpUrl('Endpoint receiving the batches.'),
  format: z
    .enum(['ndjson', 'elasticsearch'])
    .default('ndjson')
    .describe('Body encoding: NDJSON records or an Elasticsearch _bulk body.'),
  index: z
    .string()
    .optional()
    .describe('Elasticsearch index (format: elasticsearch).'),
  gzip: flag(false, 'gzip request bodies.'),
  headers: stringMap('Extra HTTP headers (may hold secrets).'),
  username: z.string().optional().describe('Basic auth user.'),
  password: z.string().optional().describe('Basic auth password (secret).'),
  bearer_token: z.string().optional().describe('Bearer token (secret).'),
  ...httpSecretFiles,
  timeout: duration(30_000, 'Request timeout.'),
  tls: tlsSection('URL'),
}).check(checkHttpSinkSecurity);

const otlpSink = otlpSinkSection(sinkCommon);

const customSink = section({
  name: sinkName.describe(
    'Unique sink name (metrics label, routes, DLQ); given to the factory as context.name.',
  ),
  match: sinkCommon.match,
  module: z
    .string()
    .min(1)
    .describe(
      'ES module that provides the sink: a path relative to the config file ("./sinks/my-sink.js"), an absolute path, or a package name resolved from the config file\'s directory (its node_modules). See docs/writing-a-sink.md.',
    ),
  export: z
    .string()
    .min(1)
    .default('createSink')
    .describe(
      'Named export of the module: a factory called as (options, { name, logger, registry, onError }) that returns a Sink (or a promise of one).',
    ),
  options: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      'Passed to the factory as is, after ${VAR} substitution; the factory validates them.',
    ),
});

/** The `sinks` section: every sink type, at least one sink in all. */
export const sinksSchema = section({
  loki: z.array(lokiSink).default([]),
  kafka: z.array(kafkaSink).default([]),
  file: z.array(fileSink).default([]),
  stdout: z.array(stdoutSink).default([]),
  http: z.array(httpSink).default([]),
  otlp: z.array(otlpSink).default([]),
  custom: z
    .array(customSink)
    .default([])
    .describe(
      'Sinks from your own modules (docs/writing-a-sink.md); routed by match like the others.',
    ),
})
  .prefault({})
  .check((ctx) => {
    const s = ctx.value;
    const total =
      s.loki.length +
      s.kafka.length +
      s.file.length +
      s.stdout.length +
      s.http.length +
      s.otlp.length +
      s.custom.length;
    if (total === 0) {
      ctx.issues.push({
        code: 'custom',
        input: s,
        message:
          'at least one sink is required (loki, kafka, file, stdout, http, otlp or custom)',
      });
    }
  });
