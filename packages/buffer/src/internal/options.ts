import { basename } from 'node:path';
import {
  LcError,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type MetricsRegistry,
} from '@lc/core';
import type { DiskLogOptions, RetentionLimitPolicy } from '../disk-log.js';

export const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;
const MIN_SEGMENT_BYTES = 4096;

export interface ResolvedOptions {
  directory: string;
  maxSegmentBytes: number;
  fsync: 'always' | 'interval' | 'never';
  fsyncIntervalMs: number;
  compression: 'none' | 'gzip';
  encryptionKey: Buffer | undefined;
  maxAgeMs: number | undefined;
  maxTotalBytes: number | undefined;
  maxSegments: number | undefined;
  onLimit: RetentionLimitPolicy;
  name: string;
  logger: Logger;
  registry: MetricsRegistry | undefined;
  clock: Clock;
  onError: (error: unknown) => void;
}

function invalid(option: string, expected: string, given: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createDiskLog: option ${option} must be ${expected}, got ${JSON.stringify(given) ?? String(given)}`,
    details: { option },
  });
}

function positiveInt(
  option: string,
  value: unknown,
  min = 1,
): number | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < min
  ) {
    throw invalid(option, `an integer >= ${min}`, value);
  }
  return value;
}

export function resolveOptions(options: DiskLogOptions): ResolvedOptions {
  if (typeof options.directory !== 'string' || options.directory === '') {
    throw invalid('directory', 'a non-empty path', options.directory);
  }
  const fsync = options.fsync ?? 'interval';
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'never') {
    throw invalid('fsync', "'always' | 'interval' | 'never'", fsync);
  }
  const compression = options.compression ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') {
    throw invalid('compression', "'none' | 'gzip'", compression);
  }
  const key = options.encryptionKey;
  if (key !== undefined && (!Buffer.isBuffer(key) || key.length !== 32)) {
    throw invalid(
      'encryptionKey',
      'a 32-byte Buffer',
      Buffer.isBuffer(key) ? `${key.length} bytes` : typeof key,
    );
  }
  const retention = options.retention ?? {};
  const onLimit = retention.onLimit ?? 'drop_oldest';
  if (onLimit !== 'drop_oldest' && onLimit !== 'block' && onLimit !== 'fail') {
    throw invalid(
      'retention.onLimit',
      "'drop_oldest' | 'block' | 'fail'",
      onLimit,
    );
  }
  const logger = (options.logger ?? silentLogger).child({
    component: 'disk-log',
  });
  return {
    directory: options.directory,
    maxSegmentBytes:
      positiveInt(
        'maxSegmentBytes',
        options.maxSegmentBytes,
        MIN_SEGMENT_BYTES,
      ) ?? DEFAULT_MAX_SEGMENT_BYTES,
    fsync,
    fsyncIntervalMs:
      positiveInt('fsyncIntervalMs', options.fsyncIntervalMs) ??
      DEFAULT_FSYNC_INTERVAL_MS,
    compression,
    encryptionKey: key,
    maxAgeMs: positiveInt('retention.maxAgeMs', retention.maxAgeMs),
    maxTotalBytes: positiveInt(
      'retention.maxTotalBytes',
      retention.maxTotalBytes,
    ),
    maxSegments: positiveInt('retention.maxSegments', retention.maxSegments, 2),
    onLimit,
    name: options.name ?? basename(options.directory),
    logger,
    registry: options.registry,
    clock: options.clock ?? systemClock,
    onError:
      options.onError ??
      ((error: unknown) =>
        logger.error({ err: error }, 'disk log background error')),
  };
}
