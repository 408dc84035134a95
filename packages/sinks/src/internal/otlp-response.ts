/**
 * Reading OTLP/HTTP answers (spec: "OTLP/HTTP Response", "Failures",
 * "Retryable Response Codes"): a 2xx carries an `ExportLogsServiceResponse`
 * whose `partial_success` may report rejected records; 429, 502, 503 and
 * 504 are retryable (honouring `Retry-After`); every other status is
 * permanent and may carry a `google.rpc.Status` with the reason. Bodies
 * come in the request's encoding (protobuf or JSON).
 */
import { LcError } from '@lc/core';
import { parseRetryAfterMs } from './classify-http.js';
import type { HttpResponse } from './http-request.js';

/** `ExportLogsPartialSuccess`. */
export interface OtlpPartialSuccess {
  readonly rejectedLogRecords: number;
  readonly errorMessage: string;
}

/** What an answer means for the records of the request. */
export type OtlpOutcome =
  | { readonly kind: 'success'; readonly partial?: OtlpPartialSuccess }
  | {
      readonly kind: 'retryable';
      readonly error: LcError;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: 'failure'; readonly error: LcError };

/** Statuses the OTLP spec says to retry. */
const RETRYABLE = new Set([429, 502, 503, 504]);

interface Field {
  readonly no: number;
  readonly varint?: number;
  readonly bytes?: Buffer;
}

/** Top-level fields of a protobuf message; `undefined` when malformed. */
function fields(buf: Buffer): Field[] | undefined {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) return undefined;
      const b = buf[pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    return undefined;
  };
  while (pos < buf.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const no = Math.floor(tag / 8);
    const type = tag & 7;
    if (type === 0) {
      const v = varint();
      if (v === undefined) return undefined;
      out.push({ no, varint: v });
    } else if (type === 2) {
      const len = varint();
      if (len === undefined || pos + len > buf.length) return undefined;
      out.push({ no, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (type === 1) pos += 8;
    else if (type === 5) pos += 4;
    else return undefined;
  }
  return pos === buf.length ? out : undefined;
}

function isJson(response: HttpResponse): boolean {
  return String(response.headers['content-type'] ?? '').includes('json');
}

function isProtobuf(response: HttpResponse): boolean {
  return String(response.headers['content-type'] ?? '').includes('protobuf');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `partial_success` of a 2xx answer, when it says anything. */
export function readPartialSuccess(
  response: HttpResponse,
): OtlpPartialSuccess | undefined {
  if (response.raw.length === 0) return undefined;
  let rejected = 0;
  let message = '';
  if (
    isJson(response) ||
    (!isProtobuf(response) && response.body.startsWith('{'))
  ) {
    const ps = parseJson(response.body)?.partialSuccess;
    if (typeof ps !== 'object' || ps === null) return undefined;
    const p = ps as Record<string, unknown>;
    rejected = Number(p.rejectedLogRecords ?? 0);
    message = typeof p.errorMessage === 'string' ? p.errorMessage : '';
  } else {
    const top = fields(response.raw)?.find((f) => f.no === 1)?.bytes;
    if (top === undefined) return undefined;
    for (const f of fields(top) ?? []) {
      if (f.no === 1 && f.varint !== undefined) rejected = f.varint;
      if (f.no === 2 && f.bytes !== undefined)
        message = f.bytes.toString('utf8');
    }
  }
  if (!Number.isFinite(rejected) || rejected < 0) rejected = 0;
  if (rejected === 0 && message === '') return undefined;
  return { rejectedLogRecords: rejected, errorMessage: message };
}

/**
 * The reason of a failed answer: the `google.rpc.Status` message when the
 * body is one, otherwise the body text (a proxy's page), shortened.
 */
export function failureReason(response: HttpResponse): string {
  if (isProtobuf(response)) {
    const message = fields(response.raw)?.find(
      (f) => f.no === 2 && f.bytes !== undefined,
    )?.bytes;
    if (message !== undefined) return message.toString('utf8').slice(0, 1024);
  } else if (isJson(response)) {
    const message = parseJson(response.body)?.message;
    if (typeof message === 'string') return message.slice(0, 1024);
  }
  return response.body.trim().slice(0, 1024);
}

/** Classify an answer by the OTLP/HTTP rules. */
export function classifyOtlpResponse(
  response: HttpResponse,
  sink: string,
  now: number,
): OtlpOutcome {
  const { status } = response;
  if (status >= 200 && status < 300) {
    const partial = readPartialSuccess(response);
    return partial === undefined
      ? { kind: 'success' }
      : { kind: 'success', partial };
  }
  const reason = failureReason(response);
  const details = { sink, status, body: reason };
  if (RETRYABLE.has(status)) {
    const retryAfterMs = parseRetryAfterMs(
      response.headers['retry-after'],
      now,
    );
    const error = new LcError({
      code:
        status === 429 ? 'LC_ERR_SINK_RATE_LIMITED' : 'LC_ERR_SINK_UNAVAILABLE',
      message: `sink "${sink}": the OTLP endpoint answered ${status} (retryable): ${reason}`,
      details,
    });
    return retryAfterMs === undefined
      ? { kind: 'retryable', error }
      : { kind: 'retryable', error, retryAfterMs };
  }
  if (status === 401 || status === 403) {
    return {
      kind: 'failure',
      error: new LcError({
        code: 'LC_ERR_SINK_AUTH',
        message: `sink "${sink}": the OTLP endpoint refused the credentials (${status}): check the headers (e.g. Authorization). ${reason}`,
        details,
      }),
    };
  }
  const hint =
    status === 413
      ? ' (request too large: lower maxRequestBytes / max_request_bytes)'
      : '';
  return {
    kind: 'failure',
    error: new LcError({
      code: 'LC_ERR_SINK_REJECTED',
      message: `sink "${sink}": the OTLP endpoint rejected the request (${status}, not retryable per the OTLP spec)${hint}: ${reason}`,
      details,
    }),
  };
}
