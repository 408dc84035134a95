import { z } from 'zod';
import { didYouMean } from '../internal/did-you-mean.js';
import { describeValue } from '../internal/describe-value.js';
import { duration, regex, section, stringMap } from './schema-helpers.js';

const fieldList = (description: string) =>
  z.array(z.string()).default([]).describe(description);

/** A condition on a record; every given clause must hold (AND). */
export const conditionSchema = section({
  line_matches: regex('The line matches this regular expression.').optional(),
  line_not_matches: regex(
    'The line does not match this regular expression.',
  ).optional(),
  labels: z
    .record(z.string(), regex('Regular expression for the label value.'))
    .optional()
    .describe('Label name → regular expression its value must match.'),
  fields: z
    .record(z.string(), regex('Regular expression for the field value.'))
    .optional()
    .describe('Parsed field → regular expression its value must match.'),
  level: z
    .array(z.string())
    .optional()
    .describe('The `level` label is one of these.'),
}).describe('All clauses must hold.');

const when = conditionSchema
  .optional()
  .describe('Run the step only for records matching this condition.');

export const REDACT_RULES = [
  'tokens',
  'passwords',
  'jwt',
  'aws_keys',
  'cards',
  'emails',
] as const;

const steps = {
  json_parse: section({
    type: z.literal('json_parse'),
    when,
    labels: fieldList('Top-level fields promoted to labels.'),
    metadata: fieldList('Top-level fields promoted to structured metadata.'),
    message_field: z
      .string()
      .optional()
      .describe('Replace the line with this field (e.g. "msg").'),
  }),
  regex_extract: section({
    type: z.literal('regex_extract'),
    when,
    pattern: regex('Regular expression with named groups `(?<name>...)`.'),
    labels: z
      .array(z.string())
      .optional()
      .describe('Groups promoted to labels. @default every named group'),
    metadata: fieldList('Groups promoted to structured metadata.'),
  }),
  logfmt_parse: section({
    type: z.literal('logfmt_parse'),
    when,
    labels: fieldList('Keys promoted to labels.'),
    metadata: fieldList('Keys promoted to structured metadata.'),
  }),
  timestamp_parse: section({
    type: z.literal('timestamp_parse'),
    when,
    field: z
      .string()
      .default('time')
      .describe('Parsed field holding the timestamp (from a parse step).'),
    pattern: regex(
      'Alternatively, a regular expression over the line whose first group is the timestamp.',
    ).optional(),
    formats: z
      .array(z.string())
      .default(['auto'])
      .describe(
        'Tried in order: auto, rfc3339, unix_s, unix_ms, unix_ns, common_log, syslog, or a pattern with YYYY MM DD HH mm ss SSS.',
      ),
    timezone: z
      .string()
      .default('UTC')
      .describe(
        'Zone for timestamps without one: UTC, ±HH:MM or an IANA name.',
      ),
    max_past: duration(7 * 86_400_000, 'Oldest acceptable event time (age).'),
    max_future: duration(300_000, 'Furthest acceptable event time ahead.'),
    on_invalid: z
      .enum(['clamp', 'reject', 'warn'])
      .default('clamp')
      .describe(
        'Out of range: clamp to the limit, reject (drop) the record, or keep it and add label `timestamp_warning`.',
      ),
  }),
  level_extract: section({
    type: z.literal('level_extract'),
    when,
    field: z.string().default('level').describe('Parsed field to read first.'),
    pattern: regex(
      'Fallback regular expression over the line (first group).',
    ).optional(),
    label: z.string().default('level').describe('Label to set.'),
  }),
  labels_add: section({
    type: z.literal('labels_add'),
    when,
    labels: stringMap(
      'Labels to set; `{{name}}` is replaced by a parsed field or label.',
    ),
  }),
  labels_remove: section({
    type: z.literal('labels_remove'),
    when,
    labels: z.array(z.string()).min(1).describe('Label names to remove.'),
  }),
  labels_rename: section({
    type: z.literal('labels_rename'),
    when,
    mapping: z.record(z.string(), z.string()).describe('Old name → new name.'),
  }),
  redact: section({
    type: z.literal('redact'),
    when,
    rules: z
      .array(z.enum(REDACT_RULES))
      .default([...REDACT_RULES])
      .describe('Built-in detectors to apply.'),
    custom: z
      .array(
        section({
          pattern: regex('Regular expression to redact.'),
          replacement: z.string().optional(),
        }),
      )
      .default([])
      .describe('Extra patterns.'),
    replacement: z.string().default('[REDACTED]').describe('Replacement text.'),
  }),
  drop: section({
    type: z.literal('drop'),
    when: conditionSchema.describe('Drop records matching this condition.'),
  }),
  sample: section({
    type: z.literal('sample'),
    when,
    rate: z
      .number()
      .min(0)
      .max(1)
      .describe(
        'Fraction kept, 0..1. Deterministic per line, so re-reads after a restart sample identically.',
      ),
  }),
} as const;

/** Every processing step type. */
export const STEP_TYPES = Object.keys(steps) as (keyof typeof steps)[];

export const stepSchema = z.discriminatedUnion(
  'type',
  [
    steps.json_parse,
    steps.regex_extract,
    steps.logfmt_parse,
    steps.timestamp_parse,
    steps.level_extract,
    steps.labels_add,
    steps.labels_remove,
    steps.labels_rename,
    steps.redact,
    steps.drop,
    steps.sample,
  ],
  {
    error: (issue) => {
      const input = issue.input as { type?: unknown } | undefined;
      const type = input?.type;
      if (issue.code !== 'invalid_union' || typeof type !== 'string') {
        return `expected a step with "type" (one of ${STEP_TYPES.join(', ')}), got ${describeValue(type)}`;
      }
      const hint = didYouMean(type, STEP_TYPES);
      return `unknown step type "${type}"${hint === undefined ? ` (one of ${STEP_TYPES.join(', ')})` : `, did you mean "${hint}"?`}`;
    },
  },
);

export const pipelineSchema = section({
  name: z.string().min(1).describe('Pipeline name; "default" is the fallback.'),
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
  steps: z.array(stepSchema).default([]).describe('Steps, in order.'),
});

export type ConditionConfig = z.output<typeof conditionSchema>;
export type StepConfig = z.output<typeof stepSchema>;
export type PipelineConfig = z.output<typeof pipelineSchema>;
