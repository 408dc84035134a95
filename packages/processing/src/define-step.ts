import type { Logger } from '@lc/core';
import { LcError } from '@lc/core';
import { z } from 'zod';
import { conditionSchema } from './condition-schema.js';
import { section } from './step-options.js';
import type { StepContext } from './step-context.js';

/**
 * A compiled step, run once per record: return `false` to drop the record,
 * anything else (or nothing) to keep it. Must not block; must not keep the
 * context beyond the call.
 */
export type StepFunction = (ctx: StepContext) => boolean | void;

/** What a step gets at compile time from the processor. */
export interface StepEnvironment {
  /** Name of the pipeline the step is in. */
  readonly pipeline: string;
  /** The processor's clock: ms since the epoch. */
  now(): number;
  /**
   * Count a notable event in `lc_processing_events_total{pipeline, event}`
   * (built-in steps count e.g. `timestamp_unparsed`).
   */
  count(event: string): void;
  /** The processor's logger. */
  readonly logger: Logger;
}

const when = conditionSchema
  .optional()
  .describe('Run the step only for records matching this condition.');

type BaseShape<Type extends string> = {
  type: z.ZodLiteral<Type>;
  when: typeof when;
};

/** The options schema {@link defineStep} builds: `type`, `when`, then the step's own keys. */
export type StepSchema<
  Type extends string,
  Shape extends z.ZodRawShape,
> = z.ZodObject<Omit<BaseShape<Type>, keyof Shape> & Shape, z.core.$strict>;

/**
 * A processing step: its type name, the schema of its options, and how to
 * compile validated options into a {@link StepFunction}. Build one with
 * {@link defineStep}; give custom ones to `createProcessor({ steps })`.
 */
export interface StepDefinition<
  Type extends string = string,
  Schema extends z.ZodType = z.ZodType,
> {
  /** The `type` a pipeline step names it by (`json_parse`, `my_step`). */
  readonly type: Type;
  /** Validates one step's options, `type` and `when` included. */
  readonly schema: Schema;
  /**
   * Whether the step reads `when` itself (`drop`) instead of the processor
   * running it only for records that match.
   */
  readonly ownsWhen: boolean;
  /** Compile validated options once per pipeline. */
  create(options: z.output<Schema>, env: StepEnvironment): StepFunction;
}

/** What {@link defineStep} takes. */
export interface StepDefinitionInput<
  Type extends string,
  Shape extends z.ZodRawShape,
> {
  /** The step's type name: lower-case letters, digits and `_`. */
  type: Type;
  /**
   * The step's options as a zod shape (`{ field: z.string() }`); unknown
   * keys are rejected with a "did you mean" hint. Every step also takes
   * `when`, applied by the processor — unless the shape declares `when`
   * itself, then the step receives it and the processor does not apply it.
   * @default {} (no options)
   */
  options?: Shape;
  /**
   * Compile once: validate and precompute here (throw `LcError` with
   * `LC_ERR_INVALID_OPTION` for bad options), and return the per-record
   * function, which must be synchronous. A per-record function that throws
   * (or returns a promise) is caught: the record goes on as it was before
   * the step, the error is counted (`step_error`) and logged with the
   * record's source, and the pipeline keeps running.
   */
  create(
    options: z.output<StepSchema<Type, Shape>>,
    env: StepEnvironment,
  ): StepFunction;
}

const STEP_TYPE = /^[a-z][a-z0-9_]*$/;

/**
 * Define a processing step from a type name, an options shape and a
 * compile function; the schema (strict, with `type` and `when`) is built
 * for you.
 *
 * @example
 * const tenant = defineStep({
 *   type: 'tenant_from_path',
 *   options: { depth: z.number().int().min(1).default(3) },
 *   create: ({ depth }) => (ctx) => {
 *     const part = ctx.labels['filename']?.split('/')[depth];
 *     if (part !== undefined) ctx.setLabels({ tenant: part });
 *   },
 * });
 */
export function defineStep<
  const Type extends string,
  Shape extends z.ZodRawShape = Record<never, never>,
>(
  definition: StepDefinitionInput<Type, Shape>,
): StepDefinition<Type, StepSchema<Type, Shape>> {
  const { type } = definition;
  if (typeof type !== 'string' || !STEP_TYPE.test(type)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `defineStep: type must be lower-case letters, digits and "_" (like "my_step"), got ${JSON.stringify(type)}`,
    });
  }
  if (typeof definition.create !== 'function') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `defineStep: create must be a function, got ${typeof definition.create} (step "${type}")`,
    });
  }
  const options = definition.options ?? ({} as Shape);
  if ('type' in options) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `defineStep: options must not declare "type" (step "${type}")`,
    });
  }
  const schema = section({
    type: z.literal(type),
    when,
    ...options,
  }) as unknown as StepSchema<Type, Shape>;
  return {
    type,
    schema,
    ownsWhen: 'when' in options,
    create: definition.create,
  };
}
