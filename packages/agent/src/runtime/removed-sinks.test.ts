import type { PendingBatchInfo } from '@lc/core';
import { describe, expect, it, vi } from 'vitest';
import { removedSinkBacklog, reportRemovedSinks } from './removed-sinks.js';

const batch = (
  id: string,
  pendingSinks: string[],
  records: number,
): PendingBatchInfo => ({
  id,
  pendingSinks,
  attempts: {},
  records,
  bytes: records * 10,
  createdAtMs: 0,
});

describe('removedSinkBacklog', () => {
  it('should count, per removed sink, the batches and records still pending for it', () => {
    const pending = [
      batch('b1', ['loki', 'kafka'], 10),
      batch('b2', ['kafka'], 5),
      batch('b3', ['loki'], 7),
    ];
    expect(
      removedSinkBacklog(['loki', 'kafka', 'file'], ['kafka'], pending),
    ).toEqual([{ sink: 'loki', batches: 2, records: 17 }]);
  });

  it('should name nothing when every removed sink has nothing pending', () => {
    expect(
      removedSinkBacklog(['loki', 'file'], ['loki'], [batch('b', ['loki'], 3)]),
    ).toEqual([]);
  });
});

describe('reportRemovedSinks', () => {
  it('should warn once per sink, naming the WAL, the DLQ and how to replay', () => {
    const warn = vi.fn();
    const logger = {
      warn,
      info: vi.fn(),
      error: vi.fn(),
      debug: vi.fn(),
    } as unknown as Parameters<typeof reportRemovedSinks>[0];
    reportRemovedSinks(logger, [{ sink: 'loki', batches: 2, records: 17 }], {
      wal: '/d/wal',
      dlq: '/d/dlq',
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatchObject({
      sink: 'loki',
      records: 17,
      wal: '/d/wal',
      dlq: '/d/dlq',
    });
    expect(warn.mock.calls[0]?.[1]).toBe(
      'reload: sink loki removed with 17 records held for it in the WAL (/d/wal): dead-lettered (LC_ERR_CONFIG) into the DLQ (/d/dlq), kept for replay (GET /dlq?sink=loki; POST /dlq/replay once a sink of that name is configured again)',
    );
  });
});
