import type { DispatcherShutdown } from '@lc/dispatcher';
import { describe, expect, it } from 'vitest';
import { describeShutdown } from './shutdown-report.js';
import type { ShutdownWhere } from './shutdown-report.js';

const nothing: DispatcherShutdown = {
  outcome: 'drained',
  unsettledRecords: 0,
  persistedRecords: 0,
  spilledRecords: 0,
  inMemoryRecords: 0,
  lostRecords: 0,
  sinks: [],
};

const stop: ShutdownWhere = {
  context: 'stop',
  timeoutMs: 10_000,
  walDirectory: '/var/lib/lc/wal',
  spillDirectory: '/var/lib/lc/spill',
};

describe('describeShutdown', () => {
  it('should say nothing above debug when everything was delivered', () => {
    expect(describeShutdown(nothing, stop)).toMatchObject({
      level: 'debug',
      msg: 'drained: every record delivered',
    });
  });

  it('should say at info what is held on disk, where, for which sinks', () => {
    const d = describeShutdown(
      {
        ...nothing,
        outcome: 'held',
        unsettledRecords: 1200,
        persistedRecords: 200,
        spilledRecords: 1000,
        sinks: ['loki'],
      },
      stop,
    );
    expect(d.level).toBe('info');
    expect(d.msg).toBe(
      'stopping with 1200 records held on disk for loki (down): 200 records in the WAL (/var/lib/lc/wal), delivered after the next start; 1000 records in the disk buffer (/var/lib/lc/spill), delivered first after the next start',
    );
    expect(d.fields).toMatchObject({
      outcome: 'held',
      unsettledRecords: 1200,
      persistedRecords: 200,
      spilledRecords: 1000,
      sinks: ['loki'],
      wal: '/var/lib/lc/wal',
      spill: '/var/lib/lc/spill',
    });
  });

  it('should warn on a timeout with what is on disk, what is read again from its source and what is lost', () => {
    const d = describeShutdown(
      {
        outcome: 'timed out',
        unsettledRecords: 60,
        persistedRecords: 10,
        spilledRecords: 0,
        inMemoryRecords: 50,
        lostRecords: 1,
        sinks: ['http', 'loki'],
      },
      stop,
    );
    expect(d.level).toBe('warn');
    expect(d.msg).toBe(
      'shutdown timed out after 10000 ms (dispatcher.shutdown_timeout) with 60 records not delivered to http, loki: 10 records in the WAL (/var/lib/lc/wal), delivered after the next start; 49 records only in memory, read again from their source after the next start (positions were not committed past them); 1 record without a source to read them again (HTTP ingest) lost',
    );
  });

  it('should say on a reload that the new pipeline takes the disk buffer and the WAL batches', () => {
    const d = describeShutdown(
      {
        ...nothing,
        outcome: 'held',
        unsettledRecords: 3,
        persistedRecords: 1,
        spilledRecords: 2,
        sinks: ['loki'],
      },
      { ...stop, context: 'reload' },
    );
    expect(d.msg).toBe(
      'reload: previous pipeline stopped with 3 records held on disk for loki (down): 1 record in the WAL (/var/lib/lc/wal), handed to the new pipeline; 2 records in the disk buffer (/var/lib/lc/spill), delivered first by the new pipeline',
    );
  });
});
