import { createRequire } from 'node:module';
import type { Labels } from '@lc/core';
import { LcError } from '@lc/core';
import type Dockerode from 'dockerode';
import type { ContainerStreamName } from '../docker-log-parser.js';
import { sanitizeLabelName } from './container-filter.js';

/** What record labels are built from. */
export interface LabelFacts {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly containerLabels: Readonly<Record<string, string>>;
}

/**
 * The record labels of a container, one frozen object per stream: `base`,
 * then `source`, `container_id`, `container_name`, `image`, the compose
 * labels and the allow-listed container labels (names sanitized).
 */
export function labelBuilder(
  base: Readonly<Record<string, string>>,
  labelAllowList: readonly string[],
): (t: LabelFacts) => Record<ContainerStreamName, Labels> {
  const allowList = labelAllowList.map((key) => ({
    key,
    label: sanitizeLabelName(key),
  }));
  return (t) => {
    const common: Record<string, string> = {
      ...base,
      source: 'container',
      container_id: t.id,
      container_name: t.name,
      image: t.image,
    };
    const service = t.containerLabels['com.docker.compose.service'];
    const project = t.containerLabels['com.docker.compose.project'];
    if (service !== undefined) common.compose_service = service;
    if (project !== undefined) common.compose_project = project;
    for (const { key, label } of allowList) {
      const value = t.containerLabels[key];
      if (value !== undefined) common[label] = value;
    }
    return {
      stdout: Object.freeze({ ...common, stream: 'stdout' }),
      stderr: Object.freeze({ ...common, stream: 'stderr' }),
    };
  };
}

/** True for the engine's 404 (no such container). */
export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | undefined)?.statusCode === 404;
}

/**
 * True for the engine's answer to a logs request for a container whose
 * log is going away (`--rm` after exit): a 409 once it is dead or marked
 * for removal, or a 500 when its log file was already deleted (`open
 * …-json.log: no such file or directory`, removal under way).
 */
export function isGoneForLogs(error: unknown): boolean {
  const e = error as { statusCode?: number; message?: unknown } | undefined;
  const message = String(e?.message ?? '');
  return (
    (e?.statusCode === 409 && /dead or marked for removal/.test(message)) ||
    (e?.statusCode === 500 && /no such file or directory/.test(message))
  );
}

/** The message of an error, or its string form. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `LC_ERR_DOCKER` for a failed engine call `op` (on `containerId`). */
export function dockerError(
  error: unknown,
  containerId: string | undefined,
  op: string,
): LcError {
  return new LcError({
    code: 'LC_ERR_DOCKER',
    message: `docker ${op} failed${containerId === undefined ? '' : ` for ${containerId}`}: ${errorMessage(error)}`,
    cause: error,
    details: { op, ...(containerId === undefined ? {} : { containerId }) },
  });
}

// dockerode (with ssh2 and docker-modem) costs ~28 MB once loaded: it is
// required when the first container monitor is created, so a process that
// only tails files never loads it.
const requireCjs = createRequire(import.meta.url);
/** The dockerode constructor, loaded on first use. */
export function loadDockerode(): typeof Dockerode {
  return requireCjs('dockerode') as typeof Dockerode;
}
