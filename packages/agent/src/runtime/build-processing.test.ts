import type { LogRecord } from '@lc/core';
import { freezeLabels } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { buildProcessing, createProcessorSlot } from './build-processing.js';

const inst = {};
const config = (processing: string) =>
  unwrapConfig(
    parseConfig(`sinks: {stdout: [{}]}\nprocessing: ${processing}`, {
      env: {},
    }),
  );
const record = (line: string): LogRecord => ({
  line,
  labels: freezeLabels({}),
  source: { kind: 'file', id: '1' },
  cursor: { offset: 1, line: 1 },
  timestampMs: 0,
  timestampNanos: 0,
});

describe('buildProcessing', () => {
  it('should build the pipelines of processing.pipelines with the steps of @lc/processing', () => {
    const p = buildProcessing(
      config(
        '{pipelines: [{name: default, steps: [{type: json_parse, message_field: msg}, {type: redact}, {type: drop, when: {line_matches: "^noise"}}]}]}',
      ),
      inst,
    );
    expect(p.process(record('{"msg":"password=hunter2"}'))?.line).toBe(
      'password=[REDACTED]',
    );
    expect(p.process(record('noise'))).toBeUndefined();
  });

  it('should pass records through untouched without pipelines', () => {
    const r = record('x');
    expect(buildProcessing(config('{}'), inst).process(r)).toBe(r);
  });
});

describe('createProcessorSlot', () => {
  it('should run the current processor and switch on swap', () => {
    const first = buildProcessing(
      config(
        '{pipelines: [{name: default, steps: [{type: labels_add, labels: {v: "1"}}]}]}',
      ),
      inst,
    );
    const other = buildProcessing(
      config(
        '{pipelines: [{name: default, steps: [{type: labels_add, labels: {v: "2"}}]}]}',
      ),
      inst,
    );
    const slot = createProcessorSlot(first);
    expect(slot.processor.process(record('a'))?.labels).toEqual({ v: '1' });
    slot.swap(other);
    expect(slot.processor.processMany([record('b')])[0]?.labels).toEqual({
      v: '2',
    });
    expect(slot.processor.pipelineFor(record('c'))).toBe('default');
    // Counters are the current processor's: a reload starts them afresh.
    expect(slot.processor.stats().processed).toBe(1);
  });
});
