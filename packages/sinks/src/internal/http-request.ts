import * as http from 'node:http';
import * as https from 'node:https';
import { LcError } from '@lc/core';
import { permanentTlsFailure } from './tls.js';

/** What came back from one HTTP request. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Response body as UTF-8 text, read up to {@link MAX_ERROR_BODY_BYTES}. */
  readonly body: string;
  /** The same bytes undecoded (binary answers such as OTLP protobuf). */
  readonly raw: Buffer;
}

/** Error bodies longer than this are cut; Loki's texts are far shorter. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** One POST request. */
export interface HttpRequestOptions {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly agent?: http.Agent;
  /** Sink name, for error messages. */
  readonly sink?: string;
}

/**
 * Whether a transport error from {@link postRequest} may succeed on a
 * later attempt: everything but `LC_ERR_SINK_TLS` (a handshake that fails
 * the same way until the configuration or the server's certificate changes).
 */
export function isRetryableTransportError(error: LcError): boolean {
  return error.code !== 'LC_ERR_SINK_TLS';
}

/**
 * POST `body` and resolve the response, or an `LcError` for transport
 * failures: `LC_ERR_TIMEOUT`, `LC_ERR_ABORTED`, `LC_ERR_SINK_UNAVAILABLE`
 * (connection refused/reset, DNS) or `LC_ERR_SINK_TLS` (a TLS failure
 * retrying cannot fix: see {@link isRetryableTransportError}). Never rejects.
 */
export function postRequest(
  options: HttpRequestOptions,
): Promise<HttpResponse | LcError> {
  return new Promise((resolve) => {
    const { url, signal } = options;
    if (signal.aborted) {
      resolve(
        new LcError({
          code: 'LC_ERR_ABORTED',
          message: `request to ${url.origin} aborted before it was sent`,
        }),
      );
      return;
    }
    let settled = false;
    const timers: { timeout?: NodeJS.Timeout } = {};
    const finish = (value: HttpResponse | LcError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timers.timeout);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      headers: {
        ...options.headers,
        'content-length': String(options.body.length),
      },
      agent: options.agent,
    });
    function onAbort(): void {
      req.destroy();
      finish(
        new LcError({
          code: 'LC_ERR_ABORTED',
          message: `request to ${url.origin} aborted`,
          cause: signal.reason,
        }),
      );
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      req.destroy();
      finish(
        new LcError({
          code: 'LC_ERR_TIMEOUT',
          message: `request to ${url.origin}${url.pathname} timed out after ${options.timeoutMs} ms`,
          details: { timeoutMs: options.timeoutMs, url: url.origin },
        }),
      );
    }, options.timeoutMs);
    timer.unref();
    timers.timeout = timer;
    req.on('error', (error: NodeJS.ErrnoException) => {
      const tls = permanentTlsFailure(error);
      if (tls !== undefined) {
        finish(
          new LcError({
            code: 'LC_ERR_SINK_TLS',
            message: `${options.sink === undefined ? '' : `sink "${options.sink}": `}TLS handshake with ${url.origin} failed: ${tls}`,
            cause: error,
            details: { url: url.origin, errno: error.code, sink: options.sink },
          }),
        );
        return;
      }
      finish(
        new LcError({
          code: 'LC_ERR_SINK_UNAVAILABLE',
          message: `request to ${url.origin} failed: ${error.code ?? error.message}`,
          cause: error,
          details: { url: url.origin, errno: error.code },
        }),
      );
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        // Keep draining past the cap so the socket can be reused.
        if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('error', (error) => {
        finish(
          new LcError({
            code: 'LC_ERR_SINK_UNAVAILABLE',
            message: `response from ${url.origin} broke off: ${error.message}`,
            cause: error,
          }),
        );
      });
      res.on('end', () => {
        const raw = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES);
        finish({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: raw.toString('utf8'),
          raw,
        });
      });
    });
    req.end(options.body);
  });
}
