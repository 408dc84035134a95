/**
 * Trace context carried by a log line (parsed fields or labels): hex trace
 * and span ids, or a W3C `traceparent`. Ids are validated (16 and 8 bytes,
 * not all zero, as W3C Trace Context requires) and turned into bytes for
 * the OTLP `trace_id` / `span_id` fields.
 */

/** A validated trace context. */
export interface TraceContext {
  /** 16 bytes. */
  readonly traceId?: Buffer;
  /** 8 bytes. */
  readonly spanId?: Buffer;
  /** W3C trace flags (the low byte of the OTLP `flags` field). */
  readonly flags?: number;
}

const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;
const ZERO = /^0+$/;
// version-traceid-parentid-flags; version ff is invalid. Later versions may
// append fields after the flags ("-..."), which are ignored.
const TRACEPARENT =
  /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/i;

/** 16 bytes from 32 hex digits, or `undefined` when invalid or all zero. */
export function parseTraceId(text: string): Buffer | undefined {
  const t = text.trim();
  if (!HEX32.test(t) || ZERO.test(t)) return undefined;
  return Buffer.from(t, 'hex');
}

/** 8 bytes from 16 hex digits, or `undefined` when invalid or all zero. */
export function parseSpanId(text: string): Buffer | undefined {
  const t = text.trim();
  if (!HEX16.test(t) || ZERO.test(t)) return undefined;
  return Buffer.from(t, 'hex');
}

/**
 * Parse a W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`).
 * `undefined` when malformed, version `ff`, extra fields on version `00`,
 * or either id is all zero.
 */
export function parseTraceparent(text: string): TraceContext | undefined {
  const m = TRACEPARENT.exec(text.trim());
  if (m === null) return undefined;
  const [, version, trace, span, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version.toLowerCase() === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  const traceId = parseTraceId(trace);
  const spanId = parseSpanId(span);
  if (traceId === undefined || spanId === undefined) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}
