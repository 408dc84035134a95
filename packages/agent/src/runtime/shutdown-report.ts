import type { Logger } from '@lc/core';
import type { DispatcherShutdown } from '@lc/dispatcher';

/** Where the pipeline keeps what it holds on disk, for {@link reportShutdown}. */
export interface ShutdownWhere {
  /** `stop`: the agent is stopping; `reload`: a reload replaced the pipeline. */
  readonly context: 'stop' | 'reload';
  /** `dispatcher.shutdown_timeout`, ms. */
  readonly timeoutMs: number;
  /** The WAL directory, when persistence is on. */
  readonly walDirectory: string | undefined;
  /** The disk buffer directory, when it is on. */
  readonly spillDirectory: string | undefined;
}

const records = (n: number): string => `${n} record${n === 1 ? '' : 's'}`;

/**
 * The one line that says what stopping the pipeline left behind and where:
 * nothing (`drained`, debug), records on disk for sinks that are down
 * (`held`, info), or what `dispatcher.shutdown_timeout` cut short
 * (`timed out`, warn: in the WAL, in the disk buffer, read again from
 * their source, lost).
 */
export function describeShutdown(
  summary: DispatcherShutdown,
  where: ShutdownWhere,
): { level: 'debug' | 'info' | 'warn'; fields: object; msg: string } {
  const fields = {
    outcome: summary.outcome,
    unsettledRecords: summary.unsettledRecords,
    persistedRecords: summary.persistedRecords,
    spilledRecords: summary.spilledRecords,
    inMemoryRecords: summary.inMemoryRecords,
    lostRecords: summary.lostRecords,
    sinks: summary.sinks,
    ...(where.walDirectory === undefined ? {} : { wal: where.walDirectory }),
    ...(where.spillDirectory === undefined
      ? {}
      : { spill: where.spillDirectory }),
  };
  const prefix = where.context === 'reload' ? 'reload: previous pipeline ' : '';
  if (summary.outcome === 'drained') {
    return {
      level: 'debug',
      fields,
      msg: `${prefix}drained: every record delivered`,
    };
  }
  const onDisk: string[] = [];
  // A reload's new pipeline takes over the disk buffer and the WAL's
  // batches at once (those of a sink it removed are dead-lettered).
  const walWhen =
    where.context === 'reload'
      ? 'handed to the new pipeline'
      : 'delivered after the next start';
  if (summary.persistedRecords > 0)
    onDisk.push(
      `${records(summary.persistedRecords)} in the WAL (${where.walDirectory ?? 'batch store'}), ${walWhen}`,
    );
  if (summary.spilledRecords > 0)
    onDisk.push(
      `${records(summary.spilledRecords)} in the disk buffer (${where.spillDirectory ?? 'spill'}), ${where.context === 'reload' ? 'delivered first by the new pipeline' : 'delivered first after the next start'}`,
    );
  const sinks = summary.sinks.length > 0 ? summary.sinks.join(', ') : 'sinks';
  if (summary.outcome === 'held') {
    return {
      level: 'info',
      fields,
      msg: `${prefix}${where.context === 'reload' ? 'stopped' : 'stopping'} with ${records(summary.unsettledRecords)} held on disk for ${sinks} (down): ${onDisk.join('; ')}`,
    };
  }
  const parts = [...onDisk];
  const reread = summary.inMemoryRecords - summary.lostRecords;
  if (reread > 0)
    parts.push(
      `${records(reread)} only in memory, read again from their source${where.context === 'reload' ? ' by the new pipeline' : ' after the next start'} (positions were not committed past them)`,
    );
  if (summary.lostRecords > 0)
    parts.push(
      `${records(summary.lostRecords)} without a source to read them again (HTTP ingest) lost`,
    );
  return {
    level: 'warn',
    fields,
    msg: `${prefix}shutdown timed out after ${where.timeoutMs} ms (dispatcher.shutdown_timeout) with ${records(summary.unsettledRecords)} not delivered to ${sinks}: ${parts.join('; ')}`,
  };
}

/** Log {@link describeShutdown}'s line. */
export function reportShutdown(
  logger: Logger,
  summary: DispatcherShutdown,
  where: ShutdownWhere,
): void {
  const { level, fields, msg } = describeShutdown(summary, where);
  logger[level](fields, msg);
}
