import type { ConditionConfig } from '../condition-schema.js';
import type { StepContext } from '../step-context.js';
import { fieldText } from './working-record.js';

/** A compiled condition. */
export type CompiledCondition = (ctx: StepContext) => boolean;

/** Compile a condition once; every clause must hold. */
export function compileCondition(config: ConditionConfig): CompiledCondition {
  const checks: CompiledCondition[] = [];
  if (config.line_matches !== undefined) {
    const re = new RegExp(config.line_matches);
    checks.push((ctx) => re.test(ctx.line));
  }
  if (config.line_not_matches !== undefined) {
    const re = new RegExp(config.line_not_matches);
    checks.push((ctx) => !re.test(ctx.line));
  }
  for (const [name, pattern] of Object.entries(config.labels ?? {})) {
    const re = new RegExp(pattern);
    checks.push((ctx) => {
      const value = ctx.labels[name];
      return value !== undefined && re.test(value);
    });
  }
  for (const [name, pattern] of Object.entries(config.fields ?? {})) {
    const re = new RegExp(pattern);
    checks.push((ctx) => {
      const value = fieldText(ctx.fields?.[name]);
      return value !== undefined && re.test(value);
    });
  }
  if (config.level !== undefined) {
    const levels = new Set(config.level.map((l) => l.toLowerCase()));
    checks.push((ctx) => {
      const level = ctx.labels['level'];
      return level !== undefined && levels.has(level.toLowerCase());
    });
  }
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0] as CompiledCondition;
  return (ctx) => {
    for (const check of checks) if (!check(ctx)) return false;
    return true;
  };
}
