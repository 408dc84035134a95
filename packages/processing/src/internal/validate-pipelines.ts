import { LcError } from '@lc/core';
import type { z } from 'zod';
import type { ConditionConfig } from '../condition-schema.js';
import type { StepDefinition } from '../define-step.js';
import type { PipelineConfig } from '../pipeline-schema.js';
import { createPipelineSchema } from '../pipeline-schema.js';
import { builtInSteps } from '../steps/built-in-steps.js';

/** A validated pipeline whose steps may be custom ones. */
export interface ValidPipeline extends Omit<PipelineConfig, 'steps'> {
  readonly steps: readonly ({
    readonly type: string;
    readonly when?: ConditionConfig;
  } & Record<string, unknown>)[];
}

function invalid(message: string, issues?: readonly string[]): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createProcessor: ${message}`,
    ...(issues === undefined ? {} : { details: { issues } }),
  });
}

/** `pipelines[0].steps[1].pattern` */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * Check the custom step definitions and validate every pipeline (defaults
 * applied, durations resolved). Throws `LC_ERR_INVALID_OPTION` listing
 * every problem with its path.
 */
export function validatePipelines(
  pipelines: readonly unknown[],
  custom: readonly StepDefinition[],
): {
  pipelines: ValidPipeline[];
  definitions: Map<string, StepDefinition>;
} {
  const definitions = new Map<string, StepDefinition>();
  for (const step of builtInSteps) definitions.set(step.type, step);
  custom.forEach((step, i) => {
    if (
      typeof step !== 'object' ||
      step === null ||
      typeof step.type !== 'string' ||
      typeof step.create !== 'function' ||
      typeof (step.schema as Partial<z.ZodType> | undefined)?.safeParse !==
        'function'
    ) {
      throw invalid(
        `steps[${i}] must be a step definition from defineStep(), got ${typeof step}`,
      );
    }
    if (definitions.has(step.type)) {
      throw invalid(
        `steps[${i}]: step type "${step.type}" is already defined${builtInSteps.some((s) => s.type === step.type) ? ' (a built-in step)' : ''}`,
      );
    }
    definitions.set(step.type, step);
  });
  if (!Array.isArray(pipelines)) {
    throw invalid(`pipelines must be a list, got ${typeof pipelines}`);
  }
  let schema: z.ZodType<PipelineConfig, unknown>;
  try {
    schema = createPipelineSchema(custom);
  } catch (error) {
    throw invalid(
      `custom step schemas must be objects with a literal "type" (use defineStep): ${(error as Error).message}`,
    );
  }
  const issues: string[] = [];
  const out: ValidPipeline[] = [];
  const names = new Map<string, number>();
  pipelines.forEach((input, i) => {
    const result = schema.safeParse(input);
    if (!result.success) {
      for (const issue of result.error.issues)
        issues.push(
          `${formatPath(['pipelines', i, ...issue.path])}: ${issue.message}`,
        );
      return;
    }
    const other = names.get(result.data.name);
    if (other !== undefined)
      issues.push(
        `pipelines[${i}].name: duplicate pipeline name "${result.data.name}" (also pipelines[${other}])`,
      );
    names.set(result.data.name, i);
    out.push(result.data as unknown as ValidPipeline);
  });
  if (issues.length > 0) {
    throw invalid(`invalid pipelines:\n  ${issues.join('\n  ')}`, issues);
  }
  return { pipelines: out, definitions };
}
