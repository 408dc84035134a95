import { isDeepStrictEqual } from 'node:util';
import type { AgentConfig } from '../config/schema.js';

/** What changed between two configs, grouped by how it is applied. */
export interface ConfigDiff {
  readonly sources: boolean;
  readonly sinks: boolean;
  readonly dispatcher: boolean;
  readonly processing: boolean;
  readonly logLevel: boolean;
  /** Sections that changed but need a restart. */
  readonly requiresRestart: readonly string[];
}

const RESTART_SECTIONS = [
  'api',
  'metrics',
  'positions',
  'persistence',
  'buffer',
  'dlq',
] as const;

/** Compare two validated configs. */
export function diffConfig(
  current: AgentConfig,
  next: AgentConfig,
): ConfigDiff {
  const changed = (a: unknown, b: unknown) => !isDeepStrictEqual(a, b);
  const requiresRestart: string[] = RESTART_SECTIONS.filter((k) =>
    changed(current[k], next[k]),
  );
  for (const key of ['name', 'data_dir', 'self_capture_guard'] as const) {
    if (current.app[key] !== next.app[key]) requiresRestart.push(`app.${key}`);
  }
  return {
    sources: changed(current.sources, next.sources),
    sinks: changed(current.sinks, next.sinks),
    dispatcher: changed(current.dispatcher, next.dispatcher),
    processing: changed(current.processing, next.processing),
    logLevel: current.app.log_level !== next.app.log_level,
    requiresRestart,
  };
}
