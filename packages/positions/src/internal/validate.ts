import { LcError } from '@lc/core';
import type { PositionManagerOptions } from '../position-manager-options.js';

/** Resolved numeric options of the position manager. */
export interface ResolvedOptions {
  readonly flushIntervalMs: number;
  readonly autoFlush: boolean;
  readonly flushEveryUpdates: number;
  readonly maxPositionAgeMs: number;
  readonly cleanupIntervalMs: number;
  readonly maxPositions: number;
  readonly computeMarkers: boolean;
  readonly closeStoreOnShutdown: boolean;
}

const DEFAULT_FLUSH_INTERVAL_MS = 0;
const DEFAULT_MAX_POSITION_AGE_MS = 24 * 60 * 60 * 1000;
const DEFAULT_CLEANUP_INTERVAL_MS = 60_000;
const DEFAULT_MAX_POSITIONS = 50_000;

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `positions: option ${name} must be an integer >= ${min}, got ${String(value)}`,
      details: { option: name, value },
    });
  }
  return value;
}

/** Validate and resolve the manager's options once, at construction. */
export function validateOptions(
  options: PositionManagerOptions,
): ResolvedOptions {
  const store = (options as Partial<PositionManagerOptions>).store;
  if (
    store === undefined ||
    typeof store.load !== 'function' ||
    typeof store.save !== 'function'
  ) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: 'positions: option store must be a PositionStore',
      details: { option: 'store' },
    });
  }
  return {
    flushIntervalMs: integer(
      'flushIntervalMs',
      options.flushIntervalMs,
      DEFAULT_FLUSH_INTERVAL_MS,
      0,
    ),
    autoFlush: options.autoFlush ?? true,
    flushEveryUpdates: integer(
      'flushEveryUpdates',
      options.flushEveryUpdates,
      0,
      0,
    ),
    maxPositionAgeMs: integer(
      'maxPositionAgeMs',
      options.maxPositionAgeMs,
      DEFAULT_MAX_POSITION_AGE_MS,
      1,
    ),
    cleanupIntervalMs: integer(
      'cleanupIntervalMs',
      options.cleanupIntervalMs,
      DEFAULT_CLEANUP_INTERVAL_MS,
      0,
    ),
    maxPositions: integer(
      'maxPositions',
      options.maxPositions,
      DEFAULT_MAX_POSITIONS,
      1,
    ),
    computeMarkers: options.computeMarkers ?? true,
    closeStoreOnShutdown: options.closeStoreOnShutdown ?? true,
  };
}
