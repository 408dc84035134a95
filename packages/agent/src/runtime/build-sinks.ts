import type { Instrumentation, Sink } from '@lc/core';
import type { RouteOptions } from '@lc/dispatcher';
import {
  createFileSink,
  createHttpSink,
  createKafkaSink,
  createLokiSink,
  createStdoutSink,
} from '@lc/sinks';
import type { AgentConfig } from '../config/schema.js';
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
 * naming the entry when a custom sink cannot be built; the sinks built
 * before it are shut down first.
 */
export async function buildSinks(
  config: AgentConfig,
  inst: Instrumentation,
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
  const { loki, kafka, file, stdout, http } = config.sinks;
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
        ...(s.username !== undefined && s.password !== undefined
          ? { basicAuth: { username: s.username, password: s.password } }
          : {}),
        ...(s.bearer_token === undefined
          ? {}
          : { bearerToken: s.bearer_token }),
        requestTimeoutMs: s.timeout,
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
    add(
      createKafkaSink({
        ...inst,
        name: sinkName('kafka', i, kafka.length, s.name),
        brokers: s.brokers,
        topic: s.topic,
        clientId: s.client_id,
        compression: s.compression,
        acks: s.acks,
        format: s.format,
        ...(s.key_label === undefined ? {} : { keyLabel: s.key_label }),
        requestTimeoutMs: s.timeout,
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
        ...(s.username !== undefined && s.password !== undefined
          ? { basicAuth: { username: s.username, password: s.password } }
          : {}),
        ...(s.bearer_token === undefined
          ? {}
          : { bearerToken: s.bearer_token }),
        requestTimeoutMs: s.timeout,
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
