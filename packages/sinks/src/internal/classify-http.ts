import { LcError, WriteResults } from '@lc/core';
import type { WriteResult } from '@lc/core';
import type { HttpResponse } from './http-request.js';

/** How to read statuses that differ between deployments. */
export interface HttpClassifyOptions {
  /** Sink name, for messages. */
  readonly sink: string;
  /** Treat 404 as retryable (a proxy in front of a restarting backend). */
  readonly retryOn404: boolean;
  /** Wall clock in ms, to read `Retry-After` dates. */
  readonly now: () => number;
}

/**
 * Parse `Retry-After` (delta seconds or an HTTP date) into milliseconds;
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) {
    return Math.round(Number(text) * 1000);
  }
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Classify a non-2xx HTTP response for the whole request: 429 and 5xx
 * (except 501) retryable, honouring `Retry-After`; 401/403 auth failure;
 * 404 retryable only when configured; every other 4xx a failure.
 */
export function classifyHttpStatus(
  response: HttpResponse,
  options: HttpClassifyOptions,
): WriteResult {
  const { status } = response;
  if (status >= 200 && status < 300) return WriteResults.success();
  const body = response.body.trim().slice(0, 1024);
  const details = { sink: options.sink, status, body };
  const retryAfterMs = parseRetryAfterMs(
    response.headers['retry-after'],
    options.now(),
  );
  if (status === 429) {
    return WriteResults.retryable(
      new LcError({
        code: 'LC_ERR_SINK_RATE_LIMITED',
        message: `sink "${options.sink}" was rate limited (429): ${body}`,
        details,
      }),
      retryAfterMs,
    );
  }
  if (status >= 500 && status !== 501) {
    return WriteResults.retryable(
      new LcError({
        code: 'LC_ERR_SINK_UNAVAILABLE',
        message: `sink "${options.sink}" answered ${status}: ${body}`,
        details,
      }),
      retryAfterMs,
    );
  }
  if (status === 401 || status === 403) {
    return WriteResults.failure(
      new LcError({
        code: 'LC_ERR_SINK_AUTH',
        message: `sink "${options.sink}" refused the credentials (${status}): check the username/password, bearer token or tenant. ${body}`,
        details,
      }),
    );
  }
  if (status === 404 && options.retryOn404) {
    return WriteResults.retryable(
      new LcError({
        code: 'LC_ERR_SINK_UNAVAILABLE',
        message: `sink "${options.sink}" answered 404 (treated as transient: retryOn404): ${body}`,
        details,
      }),
      retryAfterMs,
    );
  }
  return WriteResults.failure(
    new LcError({
      code: 'LC_ERR_SINK_REJECTED',
      message: `sink "${options.sink}" rejected the request (${status}): ${body}`,
      details,
    }),
  );
}
