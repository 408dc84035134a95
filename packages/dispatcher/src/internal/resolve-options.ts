import { LcError } from '@lc/core';
import {
  DEFAULTS,
  nonNegative,
  positive,
  validateTopology,
} from '../dispatcher-options.js';
import type {
  DispatcherOptions,
  DropPolicy,
  RateLimitOptions,
} from '../dispatcher-options.js';

/** Every numeric option of a dispatcher, validated and defaulted once. */
export interface ResolvedOptions {
  readonly maxQueueRecords: number;
  readonly maxQueueBytes: number;
  readonly dropPolicy: DropPolicy;
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchTimeoutMs: number;
  readonly sendWhenIdle: boolean;
  readonly workers: number;
  readonly sendTimeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  readonly maxRetryQueue: number;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly shutdownTimeoutMs: number;
  readonly shutdownSinks: boolean;
  /** When batches go to the batch store (see `DispatcherOptions.persist`). */
  readonly persist: 'always' | 'on_failure';
  readonly random: () => number;
  /** `undefined` when dedup is off. */
  readonly dedup:
    { readonly ttlMs: number; readonly maxEntries: number } | undefined;
  readonly rateLimit: RateLimitOptions | undefined;
  readonly name: string;
  /** `undefined` when spill is off. */
  readonly spill: ResolvedSpill | undefined;
}

/** The spill's options, resolved (see {@link DispatcherOptions.spill}). */
export interface ResolvedSpill {
  readonly directory: string;
  /** Estimated bytes (as for `maxQueueBytes`) the spill holds at most. */
  readonly maxBytes: number;
  readonly maxSegmentBytes: number;
  readonly durable: boolean;
  readonly fsync: 'always' | 'interval' | 'never';
  /** `undefined`: the size-derived default. */
  readonly minFreeBytes: number | undefined;
  readonly whenFull: 'pause' | 'drop_oldest';
  readonly trigger: 'risk' | 'backpressure';
  /** Whether a source may lose unread data (see `SpillOptions.atRisk`). */
  readonly atRisk: () => boolean;
}

/**
 * Validate `options` (throwing `LC_ERR_INVALID_OPTION` naming the option)
 * and resolve every default.
 */
export function resolveOptions(options: DispatcherOptions): ResolvedOptions {
  validateTopology(options);
  const retry = options.retry ?? {};
  const circuit = options.circuit ?? {};
  const batchMaxRecords = positive(
    'batchMaxRecords',
    options.batchMaxRecords,
    DEFAULTS.batchMaxRecords,
  );
  const batchMaxBytes = positive(
    'batchMaxBytes',
    options.batchMaxBytes,
    DEFAULTS.batchMaxBytes,
  );
  const workers = positive('workers', options.workers, DEFAULTS.workers);
  return {
    maxQueueRecords: positive(
      'maxQueueRecords',
      options.maxQueueRecords,
      Math.max(DEFAULTS.maxQueueRecords, (workers + 1) * batchMaxRecords),
    ),
    maxQueueBytes: positive(
      'maxQueueBytes',
      options.maxQueueBytes,
      Math.max(DEFAULTS.maxQueueBytes, (workers + 1) * batchMaxBytes),
    ),
    dropPolicy: options.dropPolicy ?? 'block',
    batchMaxRecords,
    batchMaxBytes,
    batchTimeoutMs: nonNegative(
      'batchTimeoutMs',
      options.batchTimeoutMs,
      DEFAULTS.batchTimeoutMs,
    ),
    sendWhenIdle: options.sendWhenIdle ?? true,
    workers,
    sendTimeoutMs: positive(
      'sendTimeoutMs',
      options.sendTimeoutMs,
      DEFAULTS.sendTimeoutMs,
    ),
    retryBaseMs: positive(
      'retry.baseDelayMs',
      retry.baseDelayMs,
      DEFAULTS.retryBaseDelayMs,
    ),
    retryMaxMs: positive(
      'retry.maxDelayMs',
      retry.maxDelayMs,
      DEFAULTS.retryMaxDelayMs,
    ),
    maxAttempts: positive(
      'retry.maxAttempts',
      retry.maxAttempts,
      Infinity,
      true,
    ),
    maxAgeMs: positive('retry.maxAgeMs', retry.maxAgeMs, Infinity, true),
    maxRetryQueue: positive(
      'retry.maxQueueSize',
      retry.maxQueueSize,
      DEFAULTS.retryMaxQueueSize,
    ),
    failureThreshold: nonNegative(
      'circuit.failureThreshold',
      circuit.failureThreshold,
      DEFAULTS.circuitFailureThreshold,
    ),
    openMs: positive('circuit.openMs', circuit.openMs, DEFAULTS.circuitOpenMs),
    persist: oneOf(
      'persist',
      options.persist,
      ['always', 'on_failure'] as const,
      'always',
    ),
    shutdownTimeoutMs: nonNegative(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs,
      DEFAULTS.shutdownTimeoutMs,
    ),
    shutdownSinks: options.shutdownSinks ?? true,
    random: options.random ?? Math.random,
    dedup:
      options.dedup === undefined
        ? undefined
        : {
            ttlMs: positive(
              'dedup.ttlMs',
              options.dedup.ttlMs,
              DEFAULTS.dedupTtlMs,
            ),
            maxEntries: positive(
              'dedup.maxEntries',
              options.dedup.maxEntries,
              DEFAULTS.dedupMaxEntries,
            ),
          },
    rateLimit: options.rateLimit,
    name: options.name ?? 'default',
    spill:
      options.spill === undefined
        ? undefined
        : {
            directory: options.spill.directory,
            maxBytes: positive(
              'spill.maxBytes',
              options.spill.maxBytes,
              DEFAULTS.spillMaxBytes,
            ),
            maxSegmentBytes: positive(
              'spill.maxSegmentBytes',
              options.spill.maxSegmentBytes,
              DEFAULTS.spillMaxSegmentBytes,
            ),
            durable: options.spill.durable ?? true,
            fsync: oneOf(
              'spill.fsync',
              options.spill.fsync,
              ['always', 'interval', 'never'] as const,
              'interval',
            ),
            minFreeBytes:
              options.spill.minFreeBytes === undefined
                ? undefined
                : nonNegative(
                    'spill.minFreeBytes',
                    options.spill.minFreeBytes,
                    0,
                  ),
            whenFull: oneOf(
              'spill.whenFull',
              options.spill.whenFull,
              ['pause', 'drop_oldest'] as const,
              'pause',
            ),
            trigger: oneOf(
              'spill.trigger',
              options.spill.trigger,
              ['risk', 'backpressure'] as const,
              'risk',
            ),
            atRisk: options.spill.atRisk ?? (() => false),
          },
  };
}

function oneOf<const T extends string>(
  name: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `dispatcher: option ${name} must be ${allowed.join(' or ')}, got ${String(value)}`,
      details: { option: name, value },
    });
  }
  return value;
}
