import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogRecord } from '@lc/core';
import { freezeLabels } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import {
  buildGeneration,
  spillActive,
  startGeneration,
  stopGeneration,
} from './build-pipeline.js';
import { buildProcessing } from './build-processing.js';

const record = (line: string, offset: number): LogRecord => ({
  line,
  labels: freezeLabels({ job: 'app' }),
  source: { kind: 'file', id: '1:2' },
  cursor: { offset, line: offset },
  timestampMs: Date.UTC(2026, 0, 1),
  timestampNanos: 0,
});

describe('buildGeneration', () => {
  it('should deliver through processing and the dispatcher to the sinks, committing what was delivered', async () => {
    const tmp = await createTempDir('lc-build-pipeline-');
    const config = unwrapConfig(
      parseConfig(
        `app: {data_dir: ${tmp.path}/data}
dispatcher: {batch_timeout: 10ms}
processing:
  pipelines:
    - name: default
      steps: [{type: drop, when: {line_matches: "^debug"}}, {type: redact, rules: [passwords]}]
sinks: {file: [{name: out, directory: ${tmp.path}/out, path_template: "out.jsonl"}]}
`,
        { env: {} },
      ),
    );
    const commits: unknown[] = [];
    const g = await buildGeneration(config, {
      inst: {},
      committer: { commit: (_source, cursor) => commits.push(cursor) },
      batchStore: undefined,
      deadLetters: undefined,
      processor: buildProcessing(config, {}),
    });
    expect(g.sinks.map((s) => s.name)).toEqual(['out']);
    await startGeneration(g);
    g.intake.dispatchMany([
      record('login password=hunter2', 10),
      record('debug noise', 20),
      record('done', 30),
    ]);
    await stopGeneration(g, { flush: async () => {} });
    const lines = (await readFile(join(tmp.path, 'out', 'out.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { line: string }).line);
    expect(lines).toEqual(['login password=[REDACTED]', 'done']);
    // The dropped record never reached the dispatcher; the watermark
    // passed it with the next record.
    expect(commits.at(-1)).toEqual({ offset: 30, line: 30 });
    await tmp.cleanup();
  });
});

describe('spillActive', () => {
  it('should run the disk buffer only under drop_policy block', () => {
    const at = (dispatcher: string) =>
      unwrapConfig(
        parseConfig(`dispatcher: ${dispatcher}\nsinks: {stdout: [{}]}`, {
          env: {},
        }),
      ).dispatcher;
    expect(spillActive(at('{}'))).toBe(true);
    expect(spillActive(at('{drop_policy: drop_newest}'))).toBe(false);
    expect(spillActive(at('{spill: {enabled: false}}'))).toBe(false);
  });
});
