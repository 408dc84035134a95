import { describeValue, didYouMean } from '@lc/core';
import { z } from 'zod';
import type { StepDefinition } from './define-step.js';
import { section } from './step-options.js';
import { builtInSteps } from './steps/built-in-steps.js';

type BuiltIn = typeof builtInSteps;
type SchemasOf<T extends readonly StepDefinition[]> = {
  [K in keyof T]: T[K]['schema'];
};
type Discriminable = z.core.$ZodTypeDiscriminable;

/** Every built-in step type, in documentation order. */
export const STEP_TYPES: readonly BuiltIn[number]['type'][] = builtInSteps.map(
  (s) => s.type,
);

function unknownStepError(types: readonly string[]) {
  return (issue: { code?: string; input?: unknown }) => {
    const type = (issue.input as { type?: unknown } | undefined)?.type;
    if (issue.code !== 'invalid_union' || typeof type !== 'string') {
      return `expected a step with "type" (one of ${types.join(', ')}), got ${describeValue(type)}`;
    }
    const hint = didYouMean(type, types);
    return `unknown step type "${type}"${hint === undefined ? ` (one of ${types.join(', ')})` : `, did you mean "${hint}"?`}`;
  };
}

function stepUnion<T extends readonly [Discriminable, ...Discriminable[]]>(
  schemas: T,
  types: readonly string[],
) {
  return z.discriminatedUnion('type', schemas, {
    error: unknownStepError(types),
  });
}

function pipelineOf<S extends z.ZodType>(step: S) {
  return section({
    name: z
      .string()
      .min(1)
      .describe('Pipeline name; "default" is the fallback.'),
    match: section({
      kind: z
        .array(z.string())
        .optional()
        .describe('Source kinds: file, container, http.'),
      labels: z
        .record(z.string(), z.string())
        .optional()
        .describe(
          'Label name → glob its value must match (e.g. filename: "/var/log/nginx/*").',
        ),
    })
      .optional()
      .describe('Which sources use this pipeline; first match wins.'),
    steps: z.array(step).default([]).describe('Steps, in order.'),
  });
}

/** One step of a pipeline: any built-in step, discriminated by `type`. */
export const stepSchema = stepUnion(
  builtInSteps.map((s) => s.schema) as unknown as SchemasOf<BuiltIn>,
  STEP_TYPES,
);

/**
 * A pipeline of built-in steps: `name`, an optional `match` (source kinds,
 * label globs; first matching pipeline wins, `default` is the fallback)
 * and `steps`. The agent's `processing.pipelines[]` is a list of these.
 */
export const pipelineSchema = pipelineOf(stepSchema);

/**
 * The pipeline schema for built-in steps plus `custom` ones (types must
 * not repeat). `createProcessor` validates with it.
 */
export function createPipelineSchema(
  custom: readonly StepDefinition[],
): z.ZodType<PipelineConfig, unknown> {
  if (custom.length === 0)
    return pipelineSchema as z.ZodType<PipelineConfig, unknown>;
  const all = [...builtInSteps, ...custom];
  const schemas = all.map((s) => s.schema) as unknown as [
    Discriminable,
    ...Discriminable[],
  ];
  return pipelineOf(
    stepUnion(
      schemas,
      all.map((s) => s.type),
    ),
  ) as unknown as z.ZodType<PipelineConfig, unknown>;
}

/** A validated built-in step (defaults applied, durations in ms). */
export type StepConfig = z.output<typeof stepSchema>;
/** A built-in step as written (YAML or code). */
export type StepInput = z.input<typeof stepSchema>;
/** A validated pipeline. */
export type PipelineConfig = z.output<typeof pipelineSchema>;
/**
 * A pipeline as written; with custom steps, their options too. A validated
 * {@link PipelineConfig} is also a valid input.
 */
export type PipelineInput<Custom extends StepDefinition = never> = Omit<
  z.input<typeof pipelineSchema>,
  'steps'
> & {
  readonly steps?: readonly (StepInput | z.input<Custom['schema']>)[];
};
