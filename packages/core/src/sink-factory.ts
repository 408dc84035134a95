import type { Instrumentation } from './instrumentation.js';
import type { Sink } from './sink.js';

/** What a host gives a {@link SinkFactory} besides the options. */
export interface SinkFactoryContext extends Instrumentation {
  /**
   * The sink's configured name (`sinks.custom[].name` in lc-agent): use it
   * as the sink's `name`. A sink named otherwise is renamed by the host.
   */
  readonly name: string;
}

/**
 * A sink factory a host loads from a module by name: lc-agent calls the
 * `createSink` export (or the one `sinks.custom[].export` names) of a
 * `sinks.custom[]` module with that entry's `options`. Validate the options
 * and throw on bad ones (an `LcError` `LC_ERR_INVALID_OPTION` naming the
 * option); connect, open or write nothing before the first `write`.
 *
 * @example
 * export const createSink: SinkFactory<{ path: string }> = (options, { name }) =>
 *   defineSink({ name, write: (batch) => appendFile(options.path, lines(batch)) });
 */
export type SinkFactory<TOptions = Readonly<Record<string, unknown>>> = (
  options: TOptions,
  context: SinkFactoryContext,
) => Sink | Promise<Sink>;
