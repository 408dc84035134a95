import type { StepConfig } from '../config/processing-schema.js';
import type { CompiledStep } from './context.js';
import { fieldText, patchLabels } from './context.js';
import type { TimestampParser } from './timestamp-formats.js';
import { compileTimestampFormat, compileZone } from './timestamp-formats.js';

type Of<T extends StepConfig['type']> = Extract<StepConfig, { type: T }>;

/** Counters the timestamp step reports through. */
export interface TimestampStepEvents {
  onUnparsed(): void;
  onOutOfRange(action: 'clamp' | 'reject' | 'warn'): void;
}

/**
 * timestamp_parse: set the record's event time from a field or a regex
 * over the line. Unparseable values keep the read time (counted). Times
 * outside `[now - max_past, now + max_future]` are clamped to the limit,
 * rejected (the record is dropped) or kept with a `timestamp_warning`
 * label.
 */
export function compileTimestampParse(
  config: Of<'timestamp_parse'>,
  nowMs: () => number,
  events: TimestampStepEvents,
): CompiledStep {
  const zone = compileZone(config.timezone);
  const parsers: TimestampParser[] = config.formats.map((f) =>
    compileTimestampFormat(f, zone, nowMs),
  );
  const pattern =
    config.pattern === undefined ? undefined : new RegExp(config.pattern);
  const {
    field,
    max_past: maxPastMs,
    max_future: maxFutureMs,
    on_invalid: onInvalid,
  } = config;
  return (ctx) => {
    let text: string | undefined;
    if (pattern !== undefined) text = pattern.exec(ctx.line)?.[1];
    else text = fieldText(ctx.fields?.[field]);
    if (text === undefined) return true;
    let ts;
    for (const parse of parsers) {
      ts = parse(text);
      if (ts !== undefined) break;
    }
    if (ts === undefined || !Number.isFinite(ts.timestampMs)) {
      events.onUnparsed();
      return true;
    }
    const now = nowMs();
    const min = now - maxPastMs;
    const max = now + maxFutureMs;
    if (ts.timestampMs < min || ts.timestampMs > max) {
      events.onOutOfRange(onInvalid);
      if (onInvalid === 'reject') return false;
      if (onInvalid === 'clamp') {
        ts = {
          timestampMs: ts.timestampMs < min ? min : max,
          timestampNanos: 0,
        };
      } else {
        patchLabels(ctx, {
          timestamp_warning: ts.timestampMs < min ? 'too_old' : 'too_new',
        });
      }
    }
    if (
      ts.timestampMs !== ctx.timestampMs ||
      ts.timestampNanos !== ctx.timestampNanos
    ) {
      ctx.timestampMs = ts.timestampMs;
      ctx.timestampNanos = ts.timestampNanos;
      ctx.changed = true;
    }
    return true;
  };
}
