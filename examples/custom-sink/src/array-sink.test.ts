import { freezeLabels } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { createArraySink } from './array-sink.js';

describeSinkContract('array', () => {
  const lines: string[] = [];
  return { sink: createArraySink(lines), readBack: async () => [...lines] };
});

describe('createArraySink', () => {
  describe('write', () => {
    it('should fail only the lines that are too long', async () => {
      const lines: string[] = [];
      const sink = createArraySink(lines, 3);
      const rec = (line: string) => ({
        line,
        labels: freezeLabels({}),
        timestampMs: 0,
        timestampNanos: 0,
        source: { kind: 'file', id: 'x' },
      });
      const result = await sink.write(
        [rec('ok'), rec('too long'), rec('ok2')],
        { signal: new AbortController().signal },
      );
      expect(result).toMatchObject({
        status: 'partial',
        failed: [{ index: 1, retryable: false }],
      });
      expect(lines).toEqual(['ok', 'ok2']);
    });
  });
});
