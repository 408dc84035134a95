import { describe, expect, it } from 'vitest';
import { defineSink } from './define-sink.js';
import { LcError } from './lc-error.js';
import type { LogRecord } from './log-record.js';
import {
  describeSinkContract,
  makeContractRecords,
} from './testing/describe-sink-contract.js';

describeSinkContract('defineSink', () => {
  const lines: string[] = [];
  return {
    sink: defineSink({
      name: 'array',
      write(batch: readonly LogRecord[]) {
        for (const r of batch) lines.push(r.line);
      },
    }),
    readBack: async () => lines,
  };
});

describe('defineSink', () => {
  it('should reject an empty name', () => {
    expect(() => defineSink({ name: '', write() {} })).toThrow(LcError);
  });

  it('should turn a throw into a retryable LC_ERR_SINK_WRITE', async () => {
    const sink = defineSink({
      name: 'thrower',
      write() {
        throw new Error('socket hang up');
      },
    });
    const result = await sink.write(makeContractRecords(1), {
      signal: new AbortController().signal,
    });
    expect(result.status).toBe('retryable');
    if (result.status === 'retryable') {
      expect(result.error.code).toBe('LC_ERR_SINK_WRITE');
      expect(result.error.message).toContain('socket hang up');
    }
  });

  it('should call the shutdown hook once', async () => {
    let calls = 0;
    const sink = defineSink({
      name: 'x',
      write() {},
      shutdown: () => void calls++,
    });
    await Promise.all([sink.shutdown(), sink.shutdown()]);
    expect(calls).toBe(1);
  });
});
