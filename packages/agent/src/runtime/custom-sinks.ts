import type { Instrumentation, Sink, SinkFactory } from '@lc/core';
import { LcError } from '@lc/core';
import type { ConfigIssue } from '../config/raw-config.js';
import type { AgentConfig } from '../config/schema.js';
import { modulesBase, resolveSinkModule } from '../config/sink-modules.js';
import { describeValue } from '../internal/describe-value.js';

/** One `sinks.custom[]` entry. */
export type CustomSinkConfig = AgentConfig['sinks']['custom'][number];

const SINK_METHODS = ['write', 'flush', 'shutdown'] as const;

const modulePath = (i: number): string => `sinks.custom[${i}].module`;

const describe = (value: unknown): string =>
  typeof value === 'function' ? 'a function' : describeValue(value);

/** Import the entry's module and return its factory; an issue when it has none. */
async function importFactory(
  entry: CustomSinkConfig,
  index: number,
  url: string,
): Promise<SinkFactory | ConfigIssue> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    return {
      path: modulePath(index),
      message: `cannot import "${entry.module}" (${url}): ${(error as Error).message}`,
    };
  }
  const factory = mod[entry.export];
  if (typeof factory === 'function') return factory as SinkFactory;
  const names = Object.keys(mod).filter((k) => k !== 'default');
  return {
    path: modulePath(index),
    message:
      factory === undefined
        ? `"${entry.module}" has no export "${entry.export}" (it exports ${names.length === 0 ? 'nothing named' : names.map((n) => `"${n}"`).join(', ')}); export a sink factory named "${entry.export}" or set sinks.custom[${index}].export`
        : `export "${entry.export}" of "${entry.module}" is ${describe(factory)}, not a sink factory function`,
  };
}

/**
 * Check every `sinks.custom[]` module, for `lc-agent validate` and `run`:
 * it resolves from the config file's directory (`from`, see
 * {@link resolveSinkModule}), imports (its top-level code runs, as any
 * import's does) and exports a factory function. Factories are not
 * called here: building a sink is for the pipeline. Returns the config
 * with each `module` replaced by its resolved `file:` URL, so the
 * pipeline (and a reload) imports the same file wherever it runs from.
 */
export async function checkCustomSinks(
  config: AgentConfig,
  from: string,
): Promise<
  | { readonly ok: true; readonly config: AgentConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] }
> {
  if (config.sinks.custom.length === 0) return { ok: true, config };
  const issues: ConfigIssue[] = [];
  const custom: CustomSinkConfig[] = [];
  for (const [i, entry] of config.sinks.custom.entries()) {
    let url: string;
    try {
      url = resolveSinkModule(entry.module, from);
    } catch (error) {
      issues.push({
        path: modulePath(i),
        message: `cannot resolve "${entry.module}" from ${from}: ${(error as Error).message}`,
      });
      continue;
    }
    const factory = await importFactory(entry, i, url);
    if (typeof factory !== 'function') issues.push(factory);
    custom.push({ ...entry, module: url });
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    config: { ...config, sinks: { ...config.sinks, custom } },
  };
}

function configError(path: string, message: string, cause?: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_CONFIG',
    message: `${path}: ${message}`,
    details: { issues: [{ path, message }] },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Build the sink of `sinks.custom[index]`: import its module (a module
 * not yet resolved by {@link checkCustomSinks} resolves from the working
 * directory), call the factory with `options` and `{ name, ...inst }`,
 * and check that it returned a sink. Throws `LC_ERR_CONFIG` naming
 * `sinks.custom[index].module` or `.options` (a factory that throws
 * rejects its options).
 */
export async function buildCustomSink(
  entry: CustomSinkConfig,
  index: number,
  inst: Instrumentation,
): Promise<Sink> {
  let url: string;
  try {
    url = resolveSinkModule(entry.module, modulesBase(undefined));
  } catch (error) {
    throw configError(
      modulePath(index),
      `cannot resolve "${entry.module}": ${(error as Error).message}`,
      error,
    );
  }
  const factory = await importFactory(entry, index, url);
  if (typeof factory !== 'function')
    throw configError(factory.path, factory.message);
  let sink: unknown;
  try {
    sink = await factory(entry.options, { ...inst, name: entry.name });
  } catch (error) {
    throw configError(
      `sinks.custom[${index}].options`,
      `the sink factory "${entry.export}" of "${entry.module}" rejected them: ${(error as Error).message}`,
      error,
    );
  }
  const s = sink as Partial<Record<string, unknown>> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    SINK_METHODS.some((m) => typeof s[m] !== 'function')
  ) {
    throw configError(
      modulePath(index),
      `the sink factory "${entry.export}" returned ${describe(sink)}, not a sink (an object with write, flush and shutdown functions, e.g. from defineSink)`,
    );
  }
  return named(sink as Sink, entry.name);
}

/** `sink` under the configured name (routes, metrics and the DLQ use it). */
function named(sink: Sink, name: string): Sink {
  if (sink.name === name) return sink;
  return {
    name,
    write: (batch, options) => sink.write(batch, options),
    flush: (options) => sink.flush(options),
    shutdown: (options) => sink.shutdown(options),
  };
}
