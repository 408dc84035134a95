import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freezeLabels } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { createAppendSink } from './append-sink.js';

// One line proves the sink against the same suite as every built-in sink.
describeSinkContract('append', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-append-'));
  const path = join(dir, 'out.log');
  return {
    sink: createAppendSink(path),
    readBack: async () =>
      (await readFile(path, 'utf8')).split('\n').slice(0, -1),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('createAppendSink', () => {
  describe('write', () => {
    it('should resolve retryable LC_ERR_SINK_WRITE when the file cannot be written', async () => {
      const sink = createAppendSink('/nonexistent-dir/out.log');
      const record = {
        line: 'x',
        labels: freezeLabels({}),
        timestampMs: 0,
        timestampNanos: 0,
        source: { kind: 'file', id: 'x' },
      };
      const result = await sink.write([record], {
        signal: new AbortController().signal,
      });
      expect(result).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_SINK_WRITE' },
      });
    });
  });
});
