import { LcError } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { processor, record } from '../test/records.js';
import { createProcessor } from './create-processor.js';
import { defineStep } from './define-step.js';

describe('defineStep', () => {
  it('should reject a type that is not a snake_case name', () => {
    for (const type of ['', 'My-Step', '1st', 'a b']) {
      let error: unknown;
      try {
        defineStep({ type, create: () => () => true });
      } catch (e) {
        error = e;
      }
      expect(LcError.isInstance(error, 'LC_ERR_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(type));
    }
  });

  it('should build a strict schema with type, when and the options', () => {
    const step = defineStep({
      type: 'tag',
      options: { name: z.string(), value: z.string().default('1') },
      create: () => () => true,
    });
    expect(step.ownsWhen).toBe(false);
    expect(
      step.schema.parse({ type: 'tag', name: 'x', when: { level: ['warn'] } }),
    ).toEqual({
      type: 'tag',
      name: 'x',
      value: '1',
      when: { level: ['warn'] },
    });
    const result = step.schema.safeParse({ type: 'tag', nme: 'x' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).join('\n')).toContain(
      'unknown key "nme", did you mean "name"?',
    );
  });

  it('should give the step its options and environment once, then run it per record', () => {
    const created: string[] = [];
    const step = defineStep({
      type: 'tag',
      options: { name: z.string() },
      create: ({ name }, env) => {
        created.push(`${env.pipeline}:${name}`);
        return (ctx) => {
          ctx.setLabels({ [name]: String(env.now()) });
          ctx.setMetadata({ seen: ctx.record.source.id });
        };
      },
    });
    const p = createProcessor({
      steps: [step],
      clock: {
        now: () => 42,
        monotonicNow: () => 0,
        setTimeout: () => ({ unref() {} }),
        clearTimeout() {},
      },
      pipelines: [{ name: 'p', steps: [{ type: 'tag', name: 'at' }] }],
    });
    const first = record('one');
    const a = p.process(first);
    const b = p.process({ ...first, line: 'two' });
    expect(created).toEqual(['p:at']);
    expect(a?.labels).toEqual({ at: '42' });
    expect(a?.metadata).toEqual({ seen: 'src-1' });
    // Same labels for records of one source: one shared frozen object.
    expect(b?.labels).toBe(a?.labels);
  });

  it('should drop a record when the step returns false', () => {
    const odd = defineStep({
      type: 'drop_odd',
      create: () => (ctx) => ctx.line.length % 2 === 0,
    });
    const p = createProcessor({
      steps: [odd],
      pipelines: [{ name: 'p', steps: [{ type: 'drop_odd' }] }],
    });
    expect(
      p
        .processMany(['ab', 'abc', 'abcd'].map((l) => record(l)))
        .map((r) => r.line),
    ).toEqual(['ab', 'abcd']);
    expect(p.stats().dropped).toBe(1);
  });

  it('should hand `when` to a step that declares it instead of applying it', () => {
    const step = defineStep({
      type: 'keep_only',
      options: { when: z.object({ prefix: z.string() }) },
      create:
        ({ when }) =>
        (ctx) =>
          ctx.line.startsWith(when.prefix),
    });
    expect(step.ownsWhen).toBe(true);
    const p = createProcessor({
      steps: [step],
      pipelines: [
        { name: 'p', steps: [{ type: 'keep_only', when: { prefix: 'a' } }] },
      ],
    });
    expect(p.process(record('abc'))).toBeDefined();
    expect(p.process(record('xyz'))).toBeUndefined();
  });

  it('should let a built-in-only processor run unchanged without custom steps', () => {
    expect(processor([]).process(record('x'))?.line).toBe('x');
  });
});
