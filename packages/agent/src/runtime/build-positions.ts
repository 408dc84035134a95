import type { Instrumentation, Logger, PositionStore } from '@lc/core';
import type { PositionManager } from '@lc/positions';
import {
  createJsonFilePositionStore,
  createMemoryPositionStore,
  createPositionManager,
  createRedisPositionStore,
} from '@lc/positions';
import type { Registry } from 'prom-client';
import { positionsFilePath } from '../config/defaults.js';
import type { AgentConfig } from '../config/schema.js';

/** The position store `config.positions` describes. */
export function createPositionStore(
  config: AgentConfig,
  logger: Logger,
  registry: Registry,
): PositionStore {
  const p = config.positions;
  switch (p.store) {
    case 'memory':
      return createMemoryPositionStore();
    case 'redis':
      return createRedisPositionStore({
        url: p.redis_url,
        namespace: p.namespace,
        logger,
        registry,
      });
    case 'file':
      return createJsonFilePositionStore({
        path: positionsFilePath(config.app.data_dir, p.path),
        onCorruption: p.on_corruption,
        backupCount: p.backup_count,
        fsync: p.fsync,
        logger,
        registry,
      });
  }
}

/**
 * The position manager over `store`, or over the store `config.positions`
 * describes. Not started.
 */
export function buildPositions(
  config: AgentConfig,
  inst: Instrumentation & { logger: Logger; registry: Registry },
  store?: PositionStore,
): PositionManager {
  return createPositionManager({
    ...inst,
    store: store ?? createPositionStore(config, inst.logger, inst.registry),
    flushIntervalMs: config.positions.flush_interval,
  });
}
