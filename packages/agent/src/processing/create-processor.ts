import type { Clock, Instrumentation, Labels, LogRecord } from '@lc/core';
import { getOrCreateMetric, systemClock } from '@lc/core';
import picomatch from 'picomatch';
import { Counter, Registry } from 'prom-client';
import type {
  PipelineConfig,
  StepConfig,
} from '../config/processing-schema.js';
import { compileCondition } from './condition.js';
import type { CompiledStep, StepContext } from './context.js';
import { compileDrop, compileSample } from './filter-steps.js';
import {
  compileLabelsAdd,
  compileLabelsRemove,
  compileLabelsRename,
  compileLevelExtract,
} from './label-steps.js';
import {
  compileJsonParse,
  compileLogfmtParse,
  compileRegexExtract,
} from './parse-steps.js';
import { compileRedact } from './redact-step.js';
import { compileTimestampParse } from './timestamp-step.js';

/** Options for {@link createProcessor}. */
export interface ProcessorOptions extends Instrumentation {
  /** Pipelines in priority order; `default` is the fallback. */
  pipelines: readonly PipelineConfig[];
}

/** Counts per outcome since construction. */
export interface ProcessorStats {
  readonly processed: number;
  readonly dropped: number;
  readonly modified: number;
}

/**
 * Runs the configured pipeline for each record. Pure and synchronous: no
 * I/O, patterns compiled once at construction.
 */
export interface Processor {
  /** The processed record, the same object when unchanged, or undefined when dropped. */
  process(record: LogRecord): LogRecord | undefined;
  /** Process in order; dropped records are left out. */
  processMany(records: readonly LogRecord[]): LogRecord[];
  /** Name of the pipeline a record would use, if any. */
  pipelineFor(record: LogRecord): string | undefined;
  /** Counters since construction. */
  stats(): ProcessorStats;
}

interface Tally {
  readonly pipeline: string;
  kept: number;
  dropped: number;
  reportedKept: number;
  reportedDropped: number;
}

const talliesOf = new WeakMap<object, Set<Tally>>();

interface CompiledPipeline {
  readonly name: string;
  readonly matches: (record: LogRecord) => boolean;
  readonly steps: readonly CompiledStep[];
  readonly tally: Tally;
}

function compileStep(
  step: StepConfig,
  clock: Clock,
  onEvent: (event: string) => void,
): CompiledStep {
  let run: CompiledStep;
  switch (step.type) {
    case 'json_parse':
      run = compileJsonParse(step);
      break;
    case 'regex_extract':
      run = compileRegexExtract(step);
      break;
    case 'logfmt_parse':
      run = compileLogfmtParse(step);
      break;
    case 'timestamp_parse':
      run = compileTimestampParse(step, () => clock.now(), {
        onUnparsed: () => onEvent('timestamp_unparsed'),
        onOutOfRange: (action) => onEvent(`timestamp_${action}`),
      });
      break;
    case 'level_extract':
      run = compileLevelExtract(step);
      break;
    case 'labels_add':
      run = compileLabelsAdd(step);
      break;
    case 'labels_remove':
      run = compileLabelsRemove(step);
      break;
    case 'labels_rename':
      run = compileLabelsRename(step);
      break;
    case 'redact':
      run = compileRedact(step);
      break;
    case 'drop':
      return compileDrop(step);
    case 'sample':
      run = compileSample(step);
      break;
  }
  if (step.when === undefined) return run;
  const condition = compileCondition(step.when);
  return (ctx) => (condition(ctx) ? run(ctx) : true);
}

/** Compile pipelines into a {@link Processor}. Throws `LC_ERR_CONFIG` for bad patterns. */
export function createProcessor(options: ProcessorOptions): Processor {
  const clock = options.clock ?? systemClock;
  const registry = options.registry ?? new Registry();
  const records = getOrCreateMetric(
    registry,
    'lc_processing_records_total',
    () => {
      const tallies = new Set<Tally>();
      const counter: Counter = new Counter({
        name: 'lc_processing_records_total',
        help: 'Records through processing pipelines, by outcome (kept, dropped).',
        labelNames: ['pipeline', 'outcome'],
        registers: [registry],
        // Per-record counting stays in plain numbers; they are added here at
        // scrape time (a labelled inc() per record costs more than a step).
        collect() {
          for (const t of tallies) {
            if (t.kept > t.reportedKept)
              counter.labels(t.pipeline, 'kept').inc(t.kept - t.reportedKept);
            if (t.dropped > t.reportedDropped)
              counter
                .labels(t.pipeline, 'dropped')
                .inc(t.dropped - t.reportedDropped);
            t.reportedKept = t.kept;
            t.reportedDropped = t.dropped;
          }
        },
      });
      talliesOf.set(counter, tallies);
      return counter;
    },
  );
  const tallySet = talliesOf.get(records) ?? new Set<Tally>();
  const events = getOrCreateMetric(
    registry,
    'lc_processing_events_total',
    () =>
      new Counter({
        name: 'lc_processing_events_total',
        help: 'Notable processing events (timestamp_unparsed, timestamp_clamp, timestamp_reject, timestamp_warn).',
        labelNames: ['pipeline', 'event'],
        registers: [registry],
      }),
  );
  const pipelines: CompiledPipeline[] = options.pipelines.map((p) => {
    const kinds =
      p.match?.kind === undefined ? undefined : new Set(p.match.kind);
    const labelMatchers = Object.entries(p.match?.labels ?? {}).map(
      ([name, glob]) => [name, picomatch(glob, { dot: true })] as const,
    );
    const isDefault = p.match === undefined;
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
      steps: p.steps.map((s) =>
        compileStep(s, clock, (e) => events.labels(p.name, e).inc()),
      ),
      tally: (() => {
        const t: Tally = {
          pipeline: p.name,
          kept: 0,
          dropped: 0,
          reportedKept: 0,
          reportedDropped: 0,
        };
        tallySet.add(t);
        return t;
      })(),
    };
  });
  // "default" applies only when nothing else matched.
  const ordered = [
    ...pipelines.filter((p) => p.name !== 'default'),
    ...pipelines.filter((p) => p.name === 'default'),
  ];
  // Label objects are shared per source, so they key the selection cache.
  const selection = new WeakMap<Labels, Map<string, CompiledPipeline | null>>();
  let processed = 0;
  let dropped = 0;
  let modified = 0;

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
    const ctx: StepContext = {
      line: record.line,
      labels: record.labels,
      metadata: record.metadata,
      timestampMs: record.timestampMs,
      timestampNanos: record.timestampNanos,
      fields: undefined,
      changed: false,
    };
    for (const step of pipeline.steps) {
      if (!step(ctx)) {
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
      const out: LogRecord[] = [];
      for (const record of input) {
        const r = process(record);
        if (r !== undefined) out.push(r);
      }
      return out;
    },
    pipelineFor: (record) => select(record)?.name,
    stats: () => ({ processed, dropped, modified }),
  };
}
