import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSinkContract } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { createSink } from './create-sink.js';

// The factory lc-agent calls passes the same suite as the sink itself.
describeSinkContract('createSink', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-append-factory-'));
  const path = join(dir, 'out.log');
  return {
    sink: await createSink({ path }, { name: 'mine' }),
    readBack: async () =>
      (await readFile(path, 'utf8')).split('\n').slice(0, -1),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('createSink', () => {
  it('should name the sink as the host asks', async () => {
    const sink = await createSink({ path: '/tmp/x.log' }, { name: 'mine' });
    expect(sink.name).toBe('mine');
  });

  it('should reject options without a path with LC_ERR_INVALID_OPTION naming it', () => {
    expect(() => createSink({}, { name: 'mine' })).toThrow(
      expect.objectContaining({
        code: 'LC_ERR_INVALID_OPTION',
        message: expect.stringContaining('path:') as unknown,
      }),
    );
  });
});
