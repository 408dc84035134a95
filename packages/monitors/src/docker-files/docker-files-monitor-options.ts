import { isAbsolute } from 'node:path';
import type { Labels } from '@lc/core';
import { LcError } from '@lc/core';
import type { ContainerFilters } from '../container/container-monitor-options.js';
import type { FileMonitorOptions } from '../file/file-monitor-options.js';
import type { MultilineOptions } from '../multiline/multiline-options.js';
import { resolveMultilineOptions } from '../multiline/multiline-options.js';

/** Options of `createDockerFilesMonitor`. */
export interface DockerFilesMonitorOptions extends Omit<
  FileMonitorOptions,
  | 'include'
  | 'exclude'
  | 'labels'
  | 'encoding'
  | 'followSymlinks'
  | 'includeHidden'
  | 'maxDepth'
  | 'readCompressed'
  | 'multiline'
> {
  /** Docker's data root (`docker info --format '{{.DockerRootDir}}'`). @default '/var/lib/docker' */
  dataRoot?: string;
  /** Which containers to capture (as the API mode's). @default all */
  filters?: ContainerFilters;
  /** Labels added to every record (before the container's own). @default none */
  labels?: Labels;
  /** Container labels copied into record labels, by exact key (as the API mode's). @default none */
  labelAllowList?: readonly string[];
  /**
   * Join lines into multiline records, stdout and stderr separately, after
   * Docker's partial lines are joined. @default none
   */
  multiline?: MultilineOptions;
  /**
   * Open each container's log when the engine creates it (watching
   * `<data_root>/containers`), so containers removed at exit lose nothing.
   * @default true
   */
  pinLogs?: boolean;
  /**
   * How often each container's `config.v2.json` is checked for changes
   * (a rename), ms. @default 10_000
   */
  configCheckIntervalMs?: number;
}

export const DEFAULT_DATA_ROOT = '/var/lib/docker';
export const DEFAULT_CONFIG_CHECK_INTERVAL_MS = 10_000;
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** Options with defaults applied. */
export interface ResolvedDockerFilesOptions {
  readonly dataRoot: string;
  readonly containersDir: string;
  readonly includeGlobs: readonly string[];
  readonly maxLineBytes: number;
  readonly pinLogs: boolean;
  readonly configCheckIntervalMs: number;
}

function invalid(name: string, expected: string, got: unknown): LcError {
  return new LcError({
    code: 'LC_ERR_INVALID_OPTION',
    message: `createDockerFilesMonitor: option ${name} must be ${expected}, got ${JSON.stringify(got)}`,
    details: { option: name },
  });
}

/** Validate and apply defaults. Throws `LC_ERR_INVALID_OPTION` naming the option. */
export function resolveDockerFilesOptions(
  options: DockerFilesMonitorOptions,
): ResolvedDockerFilesOptions {
  if (options === null || typeof options !== 'object')
    throw invalid('options', 'an object', options);
  const dataRoot = (options.dataRoot ?? DEFAULT_DATA_ROOT).replace(/\/+$/, '');
  if (typeof options.dataRoot === 'string' && !isAbsolute(options.dataRoot))
    throw invalid('dataRoot', 'an absolute path', options.dataRoot);
  if (dataRoot === '') throw invalid('dataRoot', 'an absolute path', '/');
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 16)
    throw invalid('maxLineBytes', 'an integer >= 16', maxLineBytes);
  const configCheckIntervalMs =
    options.configCheckIntervalMs ?? DEFAULT_CONFIG_CHECK_INTERVAL_MS;
  if (!Number.isInteger(configCheckIntervalMs) || configCheckIntervalMs < 10)
    throw invalid(
      'configCheckIntervalMs',
      'an integer >= 10',
      configCheckIntervalMs,
    );
  if (options.multiline !== undefined)
    resolveMultilineOptions(
      options.multiline,
      'multiline',
      'createDockerFilesMonitor',
    );
  const containersDir = `${dataRoot}/containers`;
  return {
    dataRoot,
    containersDir,
    includeGlobs: [`${containersDir}/*/*-json.log`],
    maxLineBytes,
    pinLogs: options.pinLogs ?? true,
    configCheckIntervalMs,
  };
}
