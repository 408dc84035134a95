import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStep } from './define-step.js';
import {
  createPipelineSchema,
  pipelineSchema,
  STEP_TYPES,
} from './pipeline-schema.js';

const messages = (result: { error?: z.ZodError }) =>
  (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('pipelineSchema', () => {
  it('should list every built-in step type', () => {
    expect(STEP_TYPES).toEqual([
      'json_parse',
      'regex_extract',
      'logfmt_parse',
      'timestamp_parse',
      'level_extract',
      'labels_add',
      'labels_remove',
      'labels_rename',
      'redact',
      'drop',
      'sample',
    ]);
  });

  it('should apply defaults and resolve durations', () => {
    const p = pipelineSchema.parse({
      name: 'p',
      steps: [{ type: 'timestamp_parse', max_past: '1h' }],
    });
    expect(p.steps[0]).toMatchObject({
      type: 'timestamp_parse',
      field: 'time',
      formats: ['auto'],
      max_past: 3_600_000,
      max_future: 300_000,
      on_invalid: 'clamp',
    });
  });

  it('should hint at the step type meant', () => {
    expect(
      messages(
        pipelineSchema.safeParse({ name: 'p', steps: [{ type: 'redcat' }] }),
      ),
    ).toEqual([
      'steps.0.type: unknown step type "redcat", did you mean "redact"?',
    ]);
  });

  it('should require the drop condition', () => {
    expect(
      messages(
        pipelineSchema.safeParse({ name: 'p', steps: [{ type: 'drop' }] }),
      ),
    ).toEqual([expect.stringMatching(/^steps\.0\.when: /)]);
  });

  it('should reject unknown time zones and formats without a date when validating, not at run time', () => {
    const result = pipelineSchema.safeParse({
      name: 'p',
      steps: [
        {
          type: 'timestamp_parse',
          timezone: 'Mars/Olympus',
          formats: ['auto', 'HH:mm'],
        },
      ],
    });
    expect(messages(result)).toEqual([
      'steps.0.formats.1: timestamp format "HH:mm" needs YYYY, MM (or MMM) and DD',
      'steps.0.timezone: expected UTC, ±HH:MM or an IANA time zone name, got "Mars/Olympus"',
    ]);
  });

  test.prop([
    fc.array(
      fc.constantFrom(
        { type: 'json_parse', labels: ['app'], message_field: 'msg' },
        { type: 'regex_extract', pattern: '(?<a>x)' },
        { type: 'logfmt_parse' },
        { type: 'timestamp_parse', max_past: '2h', timezone: 'Europe/Berlin' },
        { type: 'level_extract', when: { line_matches: 'x' } },
        { type: 'labels_add', labels: { a: '{{b}}' } },
        { type: 'labels_remove', labels: ['a'] },
        { type: 'labels_rename', mapping: { a: 'b' } },
        { type: 'redact', rules: ['emails'], custom: [{ pattern: 'x' }] },
        { type: 'drop', when: { level: ['debug'] } },
        { type: 'sample', rate: 0.3 },
      ),
      { maxLength: 8 },
    ),
  ])('should accept its own output as input unchanged', (steps) => {
    const once = pipelineSchema.parse({ name: 'p', steps });
    expect(pipelineSchema.parse(once)).toEqual(once);
  });
});

describe('createPipelineSchema', () => {
  it('should add custom steps to the built-in ones, hints included', () => {
    const schema = createPipelineSchema([
      defineStep({
        type: 'geoip',
        options: { field: z.string() },
        create: () => () => true,
      }),
    ]);
    expect(
      schema.safeParse({ name: 'p', steps: [{ type: 'geoip', field: 'ip' }] })
        .success,
    ).toBe(true);
    expect(
      messages(schema.safeParse({ name: 'p', steps: [{ type: 'geoipp' }] })),
    ).toEqual([
      'steps.0.type: unknown step type "geoipp", did you mean "geoip"?',
    ]);
  });
});
