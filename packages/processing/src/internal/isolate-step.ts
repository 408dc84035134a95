import { LcError } from '@lc/core';
import type { StepEnvironment, StepFunction } from '../define-step.js';
import type { WorkingRecord } from './working-record.js';

/** Between two logged failures of one step, at most this often. */
const LOG_EVERY_MS = 10_000;

/**
 * Run a custom step so that a throw cannot stop the pipeline: the record
 * goes on as it was before the step (its changes are undone), the failure
 * is counted as `step_error` and logged with the record's source and
 * cursor (the first, then at most one per 10 s with the number left out).
 * A step that returns a promise is a failure too: steps are synchronous.
 */
export function isolateStep(
  run: StepFunction,
  type: string,
  env: StepEnvironment,
  onError: () => void,
): StepFunction {
  let lastLogMs = -Infinity;
  let unlogged = 0;
  const fail = (ctx: WorkingRecord, error: unknown): void => {
    onError();
    env.count('step_error');
    const now = env.now();
    if (now - lastLogMs < LOG_EVERY_MS) {
      unlogged++;
      return;
    }
    env.logger.warn(
      {
        err: error,
        pipeline: env.pipeline,
        step: type,
        source: ctx.record.source,
        cursor: ctx.record.cursor,
        ...(unlogged > 0 ? { notLogged: unlogged } : {}),
      },
      `processing step "${type}" failed; the record goes on without it`,
    );
    lastLogMs = now;
    unlogged = 0;
  };
  return (context) => {
    const ctx = context as WorkingRecord;
    const { line, labels, metadata, timestampMs, timestampNanos, fields } = ctx;
    const changed = ctx.changed;
    let error: unknown;
    try {
      const kept: unknown = run(ctx);
      if (!isThenable(kept)) return kept as boolean | void;
      // A step that returns a promise (from plain JavaScript) would be
      // taken as "keep" and its changes would land after the record left.
      kept.then(undefined, () => {}); // its rejection is this failure
      error = new LcError({
        code: 'LC_ERR_INVALID_OPTION',
        message: `processing step "${type}" returned a promise; steps must be synchronous`,
      });
    } catch (thrown) {
      error = thrown;
    }
    ctx.line = line;
    ctx.labels = labels;
    ctx.metadata = metadata;
    ctx.timestampMs = timestampMs;
    ctx.timestampNanos = timestampNanos;
    ctx.fields = fields;
    ctx.changed = changed;
    fail(ctx, error);
    return true;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
