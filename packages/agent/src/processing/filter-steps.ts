import type { StepConfig } from '../config/processing-schema.js';
import { compileCondition } from './condition.js';
import type { CompiledStep } from './context.js';

type Of<T extends StepConfig['type']> = Extract<StepConfig, { type: T }>;

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** drop: drop records matching the condition. */
export function compileDrop(config: Of<'drop'>): CompiledStep {
  const matches = compileCondition(config.when);
  return (ctx) => !matches(ctx);
}

/**
 * sample: keep `rate` of the records, decided by a hash of the line, so a
 * line re-read after a restart gets the same decision.
 */
export function compileSample(config: Of<'sample'>): CompiledStep {
  const threshold = Math.floor(config.rate * 0x1_0000_0000);
  if (config.rate >= 1) return () => true;
  return (ctx) => fnv1a(ctx.line) < threshold;
}
