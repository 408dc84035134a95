import type { Instrumentation } from '@lc/core';
import type { Processor } from '@lc/processing';
import { createProcessor } from '@lc/processing';
import type { AgentConfig } from '../config/schema.js';

/** The processor `cfg.processing` describes (steps from `@lc/processing`). */
export function buildProcessing(
  cfg: AgentConfig,
  inst: Instrumentation,
): Processor {
  return createProcessor({ ...inst, pipelines: cfg.processing.pipelines });
}

/** The agent's processor: one object for the intake, swapped on reload. */
export interface ProcessorSlot {
  /** Delegates to the current processor. */
  readonly processor: Processor;
  /** Use `next` from the next record on. */
  swap(next: Processor): void;
}

/**
 * A {@link ProcessorSlot} starting with `initial`. The processing intake
 * holds the slot's processor, so a reload that changes only `processing`
 * swaps it without rebuilding the dispatcher or restarting sources.
 */
export function createProcessorSlot(initial: Processor): ProcessorSlot {
  let current = initial;
  return {
    processor: {
      process: (record) => current.process(record),
      processMany: (records) => current.processMany(records),
      pipelineFor: (record) => current.pipelineFor(record),
      stats: () => current.stats(),
    },
    swap(next) {
      current = next;
    },
  };
}
