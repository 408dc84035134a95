import type { Instrumentation, Sink } from '@lc/core';
import type { RouteOptions } from '@lc/dispatcher';
import {
  createFileSink,
  createHttpSink,
  createKafkaSink,
  createLokiSink,
  createOtlpSink,
  createStdoutSink,
} from '@lc/sinks';
import type { SinkTlsOptions } from '@lc/sinks';
import { resolveKafkaClient } from '../config/kafka-client-check.js';
import type { AgentConfig } from '../config/schema.js';
import { readSinkFiles, unwrapSinkFiles } from './sink-files.js';
import type { SinkFiles } from './sink-files.js';
import { buildCustomSink } from './custom-sinks.js';

/** Sinks built from config, with their routes. */
export interface BuiltSinks {
  readonly sinks: Sink[];
  readonly routes: RouteOptions[];
  readonly defaultSinks: string[];
}

/** Name of the `index`th sink of `type`, as validation assigned it. */
export function sinkName(
  type: string,
  index: number,
  count: number,
  explicit?: string,
): string {
  return explicit ?? (count === 1 ? type : `${type}-${index}`);
}

/**
 * Build every configured sink: the built-in types, then `sinks.custom`
 * (each module imported and its factory called). Throws `LC_ERR_CONFIG`
 * for TLS/secret files that cannot be read or used (`files`: already read,
 * else read now), and naming the entry when a custom sink cannot be built
 * (the sinks built before it are shut down first).
 */
export async function buildSinks(
  config: AgentConfig,
  inst: Instrumentation,
  files: SinkFiles = unwrapSinkFiles(readSinkFiles(config)),
): Promise<BuiltSinks> {
  const sinks: Sink[] = [];
  const routes: RouteOptions[] = [];
  const defaultSinks: string[] = [];
  const add = (
    sink: Sink,
    match: Readonly<Record<string, string>> | undefined,
  ) => {
    sinks.push(sink);
    if (match === undefined) defaultSinks.push(sink.name);
    else routes.push({ match: globsToRegExps(match), sinks: [sink.name] });
  };
  const { loki, kafka, file, stdout, http, otlp } = config.sinks;
  loki.forEach((s, i) => {
    const name = sinkName('loki', i, loki.length, s.name);
    add(
      createLokiSink({
        ...inst,
        name,
        url: s.url,
        encoding: s.encoding,
        ...(s.tenant_id === undefined ? {} : { tenant: s.tenant_id }),
        staticLabels: s.labels,
        headers: s.headers,
        ...httpAuth(files, 'loki', i, s.username),
        requestTimeoutMs: s.timeout,
        ...tlsOf(files, 'loki', i),
      }),
      s.match,
    );
  });
  file.forEach((s, i) => {
    const name = sinkName('file', i, file.length, s.name);
    add(
      createFileSink({
        ...inst,
        name,
        directory: s.directory,
        ...(s.path_template === undefined
          ? {}
          : { pathTemplate: s.path_template }),
        format: s.format,
        fsync: s.fsync ? 'always' : 'never',
        rotation: { maxBytes: s.max_file_bytes, maxFiles: s.max_files },
      }),
      s.match,
    );
  });
  kafka.forEach((s, i) => {
    const name = sinkName('kafka', i, kafka.length, s.name);
    const { client, why } = resolveKafkaClient(s);
    inst.logger?.info(
      { sink: name, client, configured: s.client },
      `kafka sink "${name}" uses client ${client} (${why})`,
    );
    add(
      createKafkaSink({
        ...inst,
        name,
        brokers: s.brokers,
        topic: s.topic,
        client,
        clientId: s.client_id,
        compression: s.compression,
        acks: s.acks,
        format: s.format,
        dedupHeaders: s.dedup_headers,
        ...(s.key_label === undefined ? {} : { keyLabel: s.key_label }),
        requestTimeoutMs: s.timeout,
        ...tlsOf(files, 'kafka', i),
        ...(s.sasl === undefined
          ? {}
          : {
              sasl: {
                mechanism: s.sasl.mechanism,
                username: s.sasl.username,
                password: files.secret('kafka', i, 'sasl.password') ?? '',
              },
            }),
      }),
      s.match,
    );
  });
  stdout.forEach((s, i) => {
    add(
      createStdoutSink({
        name: sinkName('stdout', i, stdout.length, s.name),
        format: s.format,
      }),
      s.match,
    );
  });
  http.forEach((s, i) => {
    add(
      createHttpSink({
        ...inst,
        name: sinkName('http', i, http.length, s.name),
        url: s.url,
        format: s.format,
        ...(s.index === undefined ? {} : { index: s.index }),
        gzip: s.gzip,
        headers: s.headers,
        ...httpAuth(files, 'http', i, s.username),
        requestTimeoutMs: s.timeout,
        ...tlsOf(files, 'http', i),
      }),
      s.match,
    );
  });
  otlp.forEach((s, i) => {
    add(
      createOtlpSink({
        ...inst,
        name: sinkName('otlp', i, otlp.length, s.name),
        ...(s.endpoint === undefined ? {} : { endpoint: s.endpoint }),
        ...(s.logs_endpoint === undefined
          ? {}
          : { logsEndpoint: s.logs_endpoint }),
        encoding: s.encoding,
        compression: s.compression,
        headers: s.headers,
        requestTimeoutMs: s.timeout,
        resourceLabels: s.resource_labels,
        resourceAttributes: s.resource_attributes,
        attributeNames: s.attribute_names,
        severityKeys: s.severity_keys,
        traceIdKeys: s.trace_id_keys,
        spanIdKeys: s.span_id_keys,
        traceparentKeys: s.traceparent_keys,
        partialSuccess: s.partial_success,
        maxRequestBytes: s.max_request_bytes,
        ...tlsOf(files, 'otlp', i),
      }),
      s.match,
    );
  });
  for (const [i, s] of config.sinks.custom.entries()) {
    let sink: Sink;
    try {
      sink = await buildCustomSink(s, i, inst);
    } catch (error) {
      await Promise.allSettled(sinks.map((built) => built.shutdown()));
      throw error;
    }
    add(sink, s.match);
  }
  return { sinks, routes, defaultSinks };
}

/** `tls` of sink `type[index]`, files read. */
function tlsOf(
  files: SinkFiles,
  type: string,
  index: number,
): { tls?: SinkTlsOptions } {
  const tls = files.tls(type, index);
  return tls === undefined ? {} : { tls };
}

/** Basic auth or bearer token, inline or from their `_file`. */
function httpAuth(
  files: SinkFiles,
  type: string,
  index: number,
  username: string | undefined,
): {
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
} {
  const password = files.secret(type, index, 'password');
  if (username !== undefined && password !== undefined)
    return { basicAuth: { username, password } };
  const token = files.secret(type, index, 'bearer_token');
  return token === undefined ? {} : { bearerToken: token };
}

/** Config globs (`*`, `?`) to anchored regular expressions. */
function globsToRegExps(
  match: Readonly<Record<string, string>>,
): Record<string, RegExp> {
  const out: Record<string, RegExp> = {};
  for (const [label, glob] of Object.entries(match)) {
    const source = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    out[label] = new RegExp(`^${source}$`);
  }
  return out;
}

/**
 * Issues for configured sink types this build cannot provide. Every sink
 * type is available now; kept so `validate` and `run` share one gate.
 */
export function checkSinkAvailability(
  config: AgentConfig,
): { path: string; message: string }[] {
  void config;
  return [];
}
