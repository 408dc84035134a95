import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Intake } from '@lc/core';
import { LcError } from '@lc/core';
import type {
  FileMonitorOptions,
  FilePositionTracker,
  ResolvedFileMonitorOptions,
  StartPosition,
} from '../file-monitor-options.js';
import { globSyntaxError } from '../glob-syntax-error.js';
import type { FileEncoding, LongLinePolicy } from './line-splitter.js';
import { resolveMultilineOptions } from '../../multiline/multiline-options.js';

const DEFAULT_MAX_DEPTH = 16;
const DEFAULT_MAX_FILES = 100_000;
const DEFAULT_RESCAN_INTERVAL_MS = 10_000;
const DEFAULT_POLL_INTERVAL_MS = 250;
const DEFAULT_MAX_IDLE_POLL_INTERVAL_MS = 60_000;
const DEFAULT_RECENT_BYTES = 65_536;
const DEFAULT_READ_BUFFER_BYTES = 262_144;
const DEFAULT_MAX_LINE_BYTES = 262_144;
const DEFAULT_PARTIAL_LINE_FLUSH_MS = 1000;
const DEFAULT_ROTATED_FILE_GRACE_MS = 5000;
const DEFAULT_DELETED_FILE_GRACE_MS = 5000;
const DEFAULT_MAX_OPEN_FILES = 1024;
const DEFAULT_IDLE_CLOSE_MS = 60_000;
const DEFAULT_MAX_BYTES_PER_FILE_PER_TICK = 4 * 1024 * 1024;
const DEFAULT_MAX_BYTES_PER_TICK = 16 * 1024 * 1024;
const DEFAULT_LAG_TOP_N = 20;
const START_POSITIONS: readonly StartPosition[] = [
  'beginning',
  'end',
  'recent',
];
const ENCODINGS: readonly FileEncoding[] = ['utf8', 'utf16le', 'latin1'];
const LONG_LINE_POLICIES: readonly LongLinePolicy[] = ['truncate', 'skip'];

function invalid(name: string, expected: string, given: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createFileMonitor: option \`${name}\` must be ${expected}, got ${JSON.stringify(given) ?? String(given)}`,
    details: { option: name },
  });
}

/** A glob that would match nothing through a typo (`{a,b.log`) is rejected. */
function checkGlob(name: string, glob: string): void {
  const problem = globSyntaxError(glob);
  if (problem === undefined) return;
  throw new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createFileMonitor: option \`${name}\` must be a valid glob: ${problem}; got ${JSON.stringify(glob)}`,
    details: { option: name },
  });
}

function positiveInt(
  name: string,
  value: number | undefined,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) || value === Infinity) || value < min) {
    throw invalid(name, `an integer >= ${min}`, value);
  }
  return value;
}

function oneOf<T extends string>(
  name: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value))
    throw invalid(name, `one of ${allowed.join(', ')}`, value);
  return value;
}

/** Apply defaults and validate; throws `LC_ERR_INVALID_OPTION` naming the option. */
export function resolveFileMonitorOptions(
  options: FileMonitorOptions,
): ResolvedFileMonitorOptions {
  if (options === null || typeof options !== 'object')
    throw invalid('options', 'an object', options);
  const intake = options.intake as Partial<Intake> | undefined;
  if (
    intake === undefined ||
    typeof intake.dispatchMany !== 'function' ||
    typeof intake.whenWritable !== 'function'
  ) {
    throw invalid(
      'intake',
      'an Intake (dispatch, dispatchMany, whenWritable)',
      typeof intake,
    );
  }
  const positions = options.positions as
    Partial<FilePositionTracker> | undefined;
  if (
    positions === undefined ||
    typeof positions.get !== 'function' ||
    typeof positions.upsertFile !== 'function'
  ) {
    throw invalid(
      'positions',
      'a PositionManager (get, list, upsertFile, reset)',
      typeof positions,
    );
  }
  if (!Array.isArray(options.include) || options.include.length === 0) {
    throw invalid(
      'include',
      'a non-empty array of absolute globs',
      options.include,
    );
  }
  options.include.forEach((g, i) => {
    if (typeof g !== 'string' || !g.startsWith('/'))
      throw invalid('include', 'absolute globs (starting with /)', g);
    checkGlob(`include[${i}]`, g);
  });
  const exclude = options.exclude ?? [];
  exclude.forEach((g, i) => {
    if (typeof g !== 'string') throw invalid('exclude', 'globs', g);
    checkGlob(`exclude[${i}]`, g);
  });
  const maxLineBytes = positiveInt(
    'maxLineBytes',
    options.maxLineBytes,
    DEFAULT_MAX_LINE_BYTES,
    16,
  );
  const readBufferBytes = positiveInt(
    'readBufferBytes',
    options.readBufferBytes,
    DEFAULT_READ_BUFFER_BYTES,
    4096,
  );
  return {
    include: options.include,
    exclude,
    labels: options.labels ?? {},
    instance: options.instance ?? hostname(),
    maxDepth: positiveInt('maxDepth', options.maxDepth, DEFAULT_MAX_DEPTH, 0),
    includeHidden: options.includeHidden ?? false,
    followSymlinks: options.followSymlinks ?? true,
    maxFiles: positiveInt('maxFiles', options.maxFiles, DEFAULT_MAX_FILES),
    rescanIntervalMs: positiveInt(
      'rescanIntervalMs',
      options.rescanIntervalMs,
      DEFAULT_RESCAN_INTERVAL_MS,
      10,
    ),
    pollIntervalMs: positiveInt(
      'pollIntervalMs',
      options.pollIntervalMs,
      DEFAULT_POLL_INTERVAL_MS,
      1,
    ),
    maxIdlePollIntervalMs: positiveInt(
      'maxIdlePollIntervalMs',
      options.maxIdlePollIntervalMs,
      DEFAULT_MAX_IDLE_POLL_INTERVAL_MS,
      1,
    ),
    watch: options.watch ?? true,
    watchDelayMs: positiveInt('watchDelayMs', options.watchDelayMs, 250, 0),
    startPosition: oneOf(
      'startPosition',
      options.startPosition,
      START_POSITIONS,
      'beginning',
    ),
    newFileStartPosition: oneOf(
      'newFileStartPosition',
      options.newFileStartPosition,
      START_POSITIONS,
      'beginning',
    ),
    recentBytes: positiveInt(
      'recentBytes',
      options.recentBytes,
      DEFAULT_RECENT_BYTES,
      0,
    ),
    readBufferBytes,
    maxLineBytes,
    longLinePolicy: oneOf(
      'longLinePolicy',
      options.longLinePolicy,
      LONG_LINE_POLICIES,
      'truncate',
    ),
    encoding: oneOf('encoding', options.encoding, ENCODINGS, 'utf8'),
    partialLineFlushMs: positiveInt(
      'partialLineFlushMs',
      options.partialLineFlushMs,
      DEFAULT_PARTIAL_LINE_FLUSH_MS,
      0,
    ),
    rotatedFileGraceMs: positiveInt(
      'rotatedFileGraceMs',
      options.rotatedFileGraceMs,
      DEFAULT_ROTATED_FILE_GRACE_MS,
      0,
    ),
    deletedFileGraceMs: positiveInt(
      'deletedFileGraceMs',
      options.deletedFileGraceMs,
      DEFAULT_DELETED_FILE_GRACE_MS,
      0,
    ),
    maxOpenFiles: positiveInt(
      'maxOpenFiles',
      options.maxOpenFiles,
      DEFAULT_MAX_OPEN_FILES,
      2,
    ),
    idleCloseMs: positiveInt(
      'idleCloseMs',
      options.idleCloseMs,
      DEFAULT_IDLE_CLOSE_MS,
      0,
    ),
    maxBytesPerFilePerTick: positiveInt(
      'maxBytesPerFilePerTick',
      options.maxBytesPerFilePerTick,
      DEFAULT_MAX_BYTES_PER_FILE_PER_TICK,
    ),
    maxBytesPerTick: positiveInt(
      'maxBytesPerTick',
      options.maxBytesPerTick,
      DEFAULT_MAX_BYTES_PER_TICK,
    ),
    multiline:
      options.multiline === undefined
        ? undefined
        : resolveMultilineOptions(
            options.multiline,
            'multiline',
            'createFileMonitor',
          ),
    readCompressed: options.readCompressed ?? true,
    selfPaths: (options.selfPaths ?? []).map((p) => resolve(p)),
    lagMetricTopN: positiveInt(
      'lagMetricTopN',
      options.lagMetricTopN,
      DEFAULT_LAG_TOP_N,
      0,
    ),
  };
}
