import type { Instrumentation, Labels, LogRecord } from '@lc/core';
import { silentLogger, systemClock } from '@lc/core';
import picomatch from 'picomatch';
import { Registry } from 'prom-client';
import type { StepDefinition, StepFunction } from './define-step.js';
import { compileCondition } from './internal/condition.js';
import { isolateStep } from './internal/isolate-step.js';
import type { Tally } from './internal/processing-metrics.js';
import { processingMetrics } from './internal/processing-metrics.js';
import { validatePipelines } from './internal/validate-pipelines.js';
import { WorkingRecord } from './internal/working-record.js';
import type { PipelineInput } from './pipeline-schema.js';

/** Options for {@link createProcessor}. */
export interface ProcessorOptions<
  Custom extends StepDefinition = never,
> extends Instrumentation {
  /**
   * Pipelines in priority order: a record uses the first whose `match`
   * holds; the one named `default` only when none does; a pipeline without
   * `match` (not named `default`) matches everything. Validated at
   * construction (`LC_ERR_INVALID_OPTION` naming `pipelines[i].steps[j].key`).
   */
  pipelines: readonly PipelineInput<Custom>[];
  /**
   * Custom steps (from {@link defineStep}) the pipelines may use by `type`,
   * besides the built-in ones. A type may not repeat a built-in one.
   * @default []
   */
  steps?: readonly Custom[];
}

/** Counts per outcome since construction. */
export interface ProcessorStats {
  /** Records given to `process`/`processMany`. */
  readonly processed: number;
  /** Records a step dropped (`drop`, `sample`, `timestamp_parse` reject, a custom step). */
  readonly dropped: number;
  /** Records passed on changed (a new object). */
  readonly modified: number;
  /** Custom-step calls that threw (the record went on without the step). */
  readonly stepErrors: number;
}

/**
 * Runs the pipeline each record belongs to. Synchronous and without I/O;
 * patterns are compiled once at construction. Records are processed in
 * the order given and never reordered; the input record is never mutated.
 */
export interface Processor {
  /**
   * The processed record: the same object when no step changed it, a new
   * one when a step did, or undefined when a step dropped it.
   */
  process(record: LogRecord): LogRecord | undefined;
  /**
   * Process in order; dropped records are left out. Returns `records`
   * itself when every record passed unchanged (no copy), else a new array.
   */
  processMany(records: readonly LogRecord[]): readonly LogRecord[];
  /** Name of the pipeline a record would use, if any. */
  pipelineFor(record: LogRecord): string | undefined;
  /** Counters since construction. */
  stats(): ProcessorStats;
}

interface CompiledPipeline {
  readonly name: string;
  readonly matches: (record: LogRecord) => boolean;
  readonly steps: readonly StepFunction[];
  readonly tally: Tally;
}

/**
 * Compile pipelines into a {@link Processor}. Throws `LcError`
 * (`LC_ERR_INVALID_OPTION`) naming every invalid key, and for custom steps
 * whatever their `create` throws.
 *
 * @example
 * const processor = createProcessor({
 *   pipelines: [{ name: 'default', steps: [{ type: 'json_parse' }, { type: 'redact' }] }],
 * });
 */
export function createProcessor<Custom extends StepDefinition = never>(
  options: ProcessorOptions<Custom>,
): Processor {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = processingMetrics(options.registry ?? new Registry());
  const custom: readonly StepDefinition[] = options.steps ?? [];
  const { pipelines: configs, definitions } = validatePipelines(
    options.pipelines,
    custom,
  );
  const isCustom = new Set(custom);
  let processed = 0;
  let dropped = 0;
  let modified = 0;
  let stepErrors = 0;

  const pipelines: CompiledPipeline[] = configs.map((p) => {
    const kinds =
      p.match?.kind === undefined ? undefined : new Set(p.match.kind);
    const labelMatchers = Object.entries(p.match?.labels ?? {}).map(
      ([name, glob]) => [name, picomatch(glob, { dot: true })] as const,
    );
    const isDefault = p.match === undefined;
    const env = {
      pipeline: p.name,
      now: () => clock.now(),
      count: (event: string) => metrics.event(p.name, event),
      logger,
    };
    return {
      name: p.name,
      matches: (record) => {
        if (isDefault && p.name !== 'default') return true;
        if (kinds !== undefined && !kinds.has(record.source.kind)) return false;
        for (const [name, isMatch] of labelMatchers) {
          const value = record.labels[name];
          if (value === undefined || !isMatch(value)) return false;
        }
        return true;
      },
      steps: p.steps.map((config) => {
        const definition = definitions.get(config.type) as StepDefinition;
        let run = definition.create(config, env);
        if (isCustom.has(definition))
          run = isolateStep(run, definition.type, env, () => stepErrors++);
        if (definition.ownsWhen || config.when === undefined) return run;
        const condition = compileCondition(config.when);
        return (ctx) => (condition(ctx) ? run(ctx) : true);
      }),
      tally: metrics.tally(p.name),
    };
  });
  // "default" applies only when nothing else matched.
  const ordered = [
    ...pipelines.filter((p) => p.name !== 'default'),
    ...pipelines.filter((p) => p.name === 'default'),
  ];
  // Label objects are shared per source, so they key the selection cache.
  const selection = new WeakMap<Labels, Map<string, CompiledPipeline | null>>();

  const select = (record: LogRecord): CompiledPipeline | undefined => {
    let byKind = selection.get(record.labels);
    if (byKind === undefined) {
      byKind = new Map();
      selection.set(record.labels, byKind);
    }
    let chosen = byKind.get(record.source.kind);
    if (chosen === undefined) {
      chosen = ordered.find((p) => p.matches(record)) ?? null;
      byKind.set(record.source.kind, chosen);
    }
    return chosen ?? undefined;
  };

  const process = (record: LogRecord): LogRecord | undefined => {
    processed++;
    const pipeline = select(record);
    if (pipeline === undefined || pipeline.steps.length === 0) return record;
    const ctx = new WorkingRecord(record);
    for (const step of pipeline.steps) {
      if (step(ctx) === false) {
        dropped++;
        pipeline.tally.dropped++;
        return undefined;
      }
    }
    pipeline.tally.kept++;
    if (!ctx.changed) return record;
    modified++;
    const out: LogRecord = {
      ...record,
      line: ctx.line,
      labels: ctx.labels,
      timestampMs: ctx.timestampMs,
      timestampNanos: ctx.timestampNanos,
    };
    if (ctx.metadata !== undefined)
      (out as { metadata?: Readonly<Record<string, string>> }).metadata =
        ctx.metadata;
    return out;
  };

  return {
    process,
    processMany(input) {
      // The input array itself while every record passes unchanged (the
      // common case, and always without pipelines): no copy per chunk.
      let out: LogRecord[] | undefined;
      for (let i = 0; i < input.length; i++) {
        const record = input[i] as LogRecord;
        const r = process(record);
        if (out === undefined) {
          if (r === record) continue;
          out = input.slice(0, i);
        }
        if (r !== undefined) out.push(r);
      }
      return out ?? input;
    },
    pipelineFor: (record) => select(record)?.name,
    stats: () => ({ processed, dropped, modified, stepErrors }),
  };
}
