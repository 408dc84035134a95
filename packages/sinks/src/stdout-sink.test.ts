import { PassThrough, Writable } from 'node:stream';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { createStdoutSink } from './stdout-sink.js';

const signal = new AbortController().signal;
const rec = (line: string): LogRecord => ({
  line,
  labels: freezeLabels({ job: 'a' }),
  timestampMs: 1_700_000_000_000,
  timestampNanos: 1,
  source: { kind: 'file', id: 'f' },
});

describeSinkContract('stdout', () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return {
    sink: createStdoutSink({ stream }),
    readBack: async () =>
      Buffer.concat(chunks)
        .toString()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { line: string }).line),
  };
});

describe('createStdoutSink', () => {
  describe('write', () => {
    it('should write text lines', async () => {
      const stream = new PassThrough();
      const sink = createStdoutSink({ stream, format: 'text' });
      await sink.write([rec('a'), rec('b\nc')], { signal });
      expect(stream.read()?.toString()).toBe('a\nb c\n');
    });

    it('should wait for drain under backpressure and resolve retryable on stream errors', async () => {
      let release: (() => void) | undefined;
      const slow = new Writable({
        highWaterMark: 4,
        write(_chunk, _enc, cb) {
          release = () => cb();
        },
      });
      const sink = createStdoutSink({ stream: slow, format: 'text' });
      let settled = false;
      const pending = sink.write([rec('0123456789')], { signal }).then((r) => {
        settled = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(settled).toBe(false);
      release?.();
      expect(await pending).toEqual({ status: 'success' });
      const broken = new Writable({
        write(_chunk, _enc, cb) {
          cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        },
      });
      broken.on('error', () => {});
      const result = await createStdoutSink({ stream: broken }).write(
        [rec('x')],
        { signal },
      );
      expect(result).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_SINK_WRITE' },
      });
    });
  });
});
