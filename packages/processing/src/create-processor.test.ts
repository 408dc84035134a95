import { LcError } from '@lc/core';
import { createFakeClock } from '@lc/core/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NOW, processor, record } from '../test/records.js';
import { createProcessor } from './create-processor.js';
import { defineStep } from './define-step.js';
import { pipelineSchema } from './pipeline-schema.js';

describe('createProcessor', () => {
  it('should name every invalid key with its path', () => {
    let error: unknown;
    try {
      createProcessor({
        pipelines: [
          {
            name: 'a',
            steps: [
              { type: 'json_prase' } as never,
              { type: 'regex_extract', pattern: '(' },
            ],
          },
          { name: 'b', steps: [{ type: 'sample', rate: 2 }] },
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(LcError.isInstance(error, 'LC_ERR_INVALID_OPTION')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(
      'pipelines[0].steps[0].type: unknown step type "json_prase", did you mean "json_parse"?',
    );
    expect(message).toContain(
      'pipelines[0].steps[1].pattern: expected a valid regular expression, got "("',
    );
    expect(message).toContain('pipelines[1].steps[0].rate:');
  });

  it('should reject duplicate pipeline names', () => {
    expect(() =>
      createProcessor({ pipelines: [{ name: 'x' }, { name: 'x' }] }),
    ).toThrow('pipelines[1].name: duplicate pipeline name "x"');
  });

  it('should reject a custom step that reuses a built-in type', () => {
    const redact = defineStep({ type: 'redact', create: () => () => true });
    expect(() => createProcessor({ steps: [redact], pipelines: [] })).toThrow(
      'steps[0]: step type "redact" is already defined (a built-in step)',
    );
  });

  it('should accept a pipeline already validated by pipelineSchema', () => {
    const parsed = pipelineSchema.parse({
      name: 'p',
      steps: [{ type: 'timestamp_parse', field: 'ts', max_past: '1h' }],
    });
    const p = createProcessor({
      pipelines: [parsed],
      clock: createFakeClock(NOW),
    });
    const out = p.process(record('{"ts":"2020-01-01T00:00:00Z"}'));
    // Not parsed: no json_parse before it, so the read time stays.
    expect(out?.timestampMs).toBe(NOW);
  });

  describe('process', () => {
    it('should return the very same record when no step changes it', () => {
      const p = processor([
        { type: 'json_parse' },
        { type: 'level_extract', pattern: '(zzz)' },
      ]);
      const r = record('plain text');
      expect(p.process(r)).toBe(r);
    });

    it('should run a step only when its condition holds', () => {
      const p = processor([
        {
          type: 'labels_add',
          labels: { x: '1' },
          when: { line_matches: '^a' },
        },
      ]);
      expect(p.process(record('abc'))?.labels).toEqual({ x: '1' });
      expect(p.process(record('bcd'))?.labels).toEqual({});
    });

    it('should run custom steps with their validated options, between built-in ones', () => {
      const upper = defineStep({
        type: 'upper',
        options: { suffix: z.string().default('!') },
        create:
          ({ suffix }) =>
          (ctx) =>
            ctx.setLine(`${ctx.line.toUpperCase()}${suffix}`),
      });
      const p = createProcessor({
        steps: [upper],
        pipelines: [
          {
            name: 'p',
            steps: [
              { type: 'upper', when: { line_matches: 'password' } },
              { type: 'redact', rules: ['passwords'] },
            ],
          },
        ],
      });
      expect(p.process(record('password=x'))?.line).toBe('PASSWORD=[REDACTED]');
      expect(p.process(record('plain'))?.line).toBe('plain');
      expect(() =>
        createProcessor({
          steps: [upper],
          pipelines: [
            { name: 'p', steps: [{ type: 'upper', sufix: '?' } as never] },
          ],
        }),
      ).toThrow('unknown key "sufix", did you mean "suffix"?');
    });

    it('should undo, count and log a custom step that throws, and keep the record going', async () => {
      const warnings: unknown[] = [];
      const logger = {
        trace() {},
        debug() {},
        info() {},
        warn: (obj: unknown) => void warnings.push(obj),
        error() {},
        fatal() {},
        child() {
          return logger;
        },
      };
      const boom = defineStep({
        type: 'boom',
        create: () => (ctx) => {
          ctx.setLine('half-done');
          if (ctx.record.line.startsWith('bad')) throw new Error('kaput');
        },
      });
      const registry = new Registry();
      const p = createProcessor({
        steps: [boom],
        registry,
        logger,
        clock: createFakeClock(NOW),
        pipelines: [
          { name: 'p', steps: [{ type: 'boom' }, { type: 'redact' }] },
        ],
      });
      const out = p.processMany([
        record('bad password=hunter2'),
        record('bad again'),
        record('good'),
      ]);
      expect(out.map((r) => r.line)).toEqual([
        'bad password=[REDACTED]',
        'bad again',
        'half-done',
      ]);
      expect(p.stats().stepErrors).toBe(2);
      // The first failure is logged with where the record came from; the
      // second, within 10 s, only counted.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        pipeline: 'p',
        step: 'boom',
        source: { kind: 'file', id: 'src-1' },
        cursor: { offset: 10, line: 1 },
      });
      expect(await registry.metrics()).toContain(
        'lc_processing_events_total{pipeline="p",event="step_error"} 2',
      );
    });
    it('should treat a custom step that returns a promise as failed', async () => {
      const lazy = defineStep({
        type: 'lazy',
        create: () =>
          // Plain JavaScript could do this; TypeScript refuses it.
          (async (ctx: { setLine(l: string): void }) => {
            ctx.setLine('changed');
            await Promise.resolve();
            throw new Error('late');
          }) as never,
      });
      const registry = new Registry();
      const p = createProcessor({
        steps: [lazy],
        registry,
        pipelines: [{ name: 'p', steps: [{ type: 'lazy' }] }],
      });
      expect(p.process(record('x'))?.line).toBe('x');
      expect(p.stats().stepErrors).toBe(1);
      // Its later rejection is swallowed, not an unhandled rejection.
      await new Promise((r) => setImmediate(r));
    });
  });

  describe('processMany', () => {
    it('should return the input array itself when every record passes unchanged', () => {
      const input = [record('a'), record('b'), record('c')];
      expect(processor([]).processMany(input)).toBe(input);
      const none = createProcessor({ pipelines: [] });
      expect(none.processMany(input)).toBe(input);
      // A step that keeps every line as it is changes nothing either.
      const keep = processor([
        { type: 'drop', when: { line_matches: '^nope' } },
      ]);
      expect(keep.processMany(input)).toBe(input);
    });

    it('should return a new array, in order, once a record is dropped or changed, leaving the input as it was', () => {
      const input = [record('a'), record('drop me'), record('c password=x')];
      const p = processor([
        { type: 'drop', when: { line_matches: '^drop' } },
        { type: 'redact' },
      ]);
      const out = p.processMany(input);
      expect(out).not.toBe(input);
      expect(out.map((r) => r.line)).toEqual(['a', 'c password=[REDACTED]']);
      expect(out[0]).toBe(input[0]);
      expect(input.map((r) => r.line)).toEqual([
        'a',
        'drop me',
        'c password=x',
      ]);
    });
  });

  describe('pipelineFor', () => {
    it('should pick the first matching pipeline and fall back to default', () => {
      const p = createProcessor({
        pipelines: [
          {
            name: 'default',
            steps: [{ type: 'labels_add', labels: { p: 'default' } }],
          },
          {
            name: 'nginx',
            match: { labels: { filename: '/var/log/nginx/*' } },
            steps: [],
          },
          { name: 'docker', match: { kind: ['container'] }, steps: [] },
        ],
      });
      expect(
        p.pipelineFor(record('x', { filename: '/var/log/nginx/a.log' })),
      ).toBe('nginx');
      expect(p.pipelineFor(record('x', {}, 'container'))).toBe('docker');
      expect(p.pipelineFor(record('x', { filename: '/tmp/a.log' }))).toBe(
        'default',
      );
    });
  });

  describe('lc_processing_records_total', () => {
    it('should report kept and dropped counts at scrape time', async () => {
      const registry = new Registry();
      const p = createProcessor({
        registry,
        pipelines: [
          {
            name: 'p',
            steps: [{ type: 'drop', when: { line_matches: '^x' } }],
          },
        ],
      });
      p.process(record('x1'));
      p.process(record('a'));
      p.process(record('b'));
      const text = await registry.metrics();
      expect(text).toContain(
        'lc_processing_records_total{pipeline="p",outcome="kept"} 2',
      );
      expect(text).toContain(
        'lc_processing_records_total{pipeline="p",outcome="dropped"} 1',
      );
      p.process(record('c'));
      expect(await registry.metrics()).toContain(
        'lc_processing_records_total{pipeline="p",outcome="kept"} 3',
      );
    });
  });
});
