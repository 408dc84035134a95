import type { Agent } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  LcError,
  once,
  shutDownResult,
  silentLogger,
  systemClock,
  WriteResults,
} from '@lc/core';
import type { SinkTlsOptions } from './check-sink-tls.js';
import type {
  Instrumentation,
  LogRecord,
  RecordFailure,
  Sink,
  WriteResult,
} from '@lc/core';
import { classifyHttpStatus } from './internal/classify-http.js';
import { formatJsonLine } from './internal/format-record.js';
import {
  isRetryableTransportError,
  postRequest,
} from './internal/http-request.js';
import type { HttpResponse } from './internal/http-request.js';
import { createSinkMetrics } from './internal/sink-metrics.js';
import { permanentFailureWarner, sinkHttpAgent } from './internal/tls.js';
import {
  invalidOption,
  requireUrl,
  validatePositive,
} from './internal/validate.js';

const gzipAsync = promisify(gzip);

/** Options of {@link createHttpSink}. */
export interface HttpSinkOptions extends Instrumentation {
  /** Endpoint URL. Required. */
  url: string;
  /** Sink name. @default 'http' */
  name?: string;
  /**
   * `ndjson`: one JSON object per line (webhooks, Vector/Fluent Bit HTTP
   * inputs). `elasticsearch`: the `_bulk` API (`index` action per record),
   * with per-record outcomes read from the response items. @default 'ndjson'
   */
  format?: 'ndjson' | 'elasticsearch';
  /** Target index for `elasticsearch` (e.g. a data stream). @default 'logs' */
  index?: string;
  /** Gzip the body (`Content-Encoding: gzip`). @default false */
  gzip?: boolean;
  /** Extra headers (e.g. API keys). */
  headers?: Record<string, string>;
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
  /** Max uncompressed body bytes; bigger batches are split. @default 5 MiB */
  maxRequestBytes?: number;
  /** Per-request timeout in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** Treat 404 as retryable. @default false */
  retryOn404?: boolean;
  /**
   * TLS for an `https:` URL: CA, client certificate (mutual TLS), server
   * name, minimum version. @default system roots, no client certificate
   */
  tls?: SinkTlsOptions;
  /**
   * HTTP(S) agent (its protocol must match the URL; not with `tls`).
   * @default a keep-alive agent owned by the sink, with `tls` applied
   */
  agent?: Agent;
}

interface BulkItem {
  [action: string]:
    { status?: number; error?: { type?: string; reason?: string } } | undefined;
}

/**
 * A generic HTTP sink: POSTs NDJSON or an Elasticsearch-compatible bulk
 * body. Statuses are classified like the Loki sink (2xx success; 429 and
 * 5xx except 501 retryable with `Retry-After`; 401/403 auth failure; other
 * 4xx failure). After `shutdown`, `write` resolves `failure`
 * `LC_ERR_SHUT_DOWN`.
 */
export function createHttpSink(options: HttpSinkOptions): Sink {
  const name = options.name ?? 'http';
  const url = requireUrl('createHttpSink', 'url', options.url);
  const format = options.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'elasticsearch')
    invalidOption(
      'createHttpSink',
      'format',
      "'ndjson' or 'elasticsearch'",
      format,
    );
  const maxRequestBytes = validatePositive(
    'createHttpSink',
    'maxRequestBytes',
    options.maxRequestBytes ?? 5 * 1024 * 1024,
  );
  const timeoutMs = validatePositive(
    'createHttpSink',
    'requestTimeoutMs',
    options.requestTimeoutMs ?? 30_000,
  );
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = createSinkMetrics(options.registry, 'http', name);
  const { agent, owned: ownAgent } = sinkHttpAgent({
    factory: 'createHttpSink',
    sink: name,
    url,
    tls: options.tls,
    agent: options.agent,
    logger,
  });
  const warnTls = permanentFailureWarner(logger, name, () => clock.now());
  const action = `${JSON.stringify({ create: { _index: options.index ?? 'logs' } })}\n`;
  const headers: Record<string, string> = {
    'user-agent': 'lc-sinks',
    'content-type': 'application/x-ndjson',
    ...options.headers,
  };
  if (options.basicAuth !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
  else if (options.bearerToken !== undefined)
    headers.authorization = `Bearer ${options.bearerToken}`;
  if (options.gzip === true) headers['content-encoding'] = 'gzip';
  let closed = false;

  const encode = (record: LogRecord): string => {
    const line = formatJsonLine(record);
    if (format === 'ndjson') return `${line}\n`;
    // ES wants @timestamp; the JSON line's `timestamp` is kept too.
    return `${action}{"@timestamp":${line.slice(13, line.indexOf('"', 14) + 1)},${line.slice(1)}\n`;
  };

  const bulkFailures = (
    response: HttpResponse,
    indexes: readonly number[],
  ): RecordFailure[] => {
    let items: BulkItem[];
    try {
      const parsed = JSON.parse(response.body) as {
        errors?: boolean;
        items?: BulkItem[];
      };
      if (parsed.errors !== true) return [];
      items = parsed.items ?? [];
    } catch {
      return [];
    }
    const failures: RecordFailure[] = [];
    items.forEach((item, i) => {
      const result = Object.values(item)[0];
      const status = result?.status ?? 200;
      if (status < 300 || i >= indexes.length) return;
      const retryable = status === 429 || (status >= 500 && status !== 501);
      const error = new LcError({
        code:
          status === 429
            ? 'LC_ERR_SINK_RATE_LIMITED'
            : retryable
              ? 'LC_ERR_SINK_UNAVAILABLE'
              : 'LC_ERR_SINK_REJECTED',
        message:
          `sink "${name}": bulk item ${i} answered ${status}: ${result?.error?.type ?? ''} ${result?.error?.reason ?? ''}`.trim(),
        details: { sink: name, status, type: result?.error?.type },
      });
      failures.push({ index: indexes[i] as number, retryable, error });
    });
    return failures;
  };

  const send = async (
    parts: string[],
    indexes: number[],
    signal: AbortSignal,
    failures: RecordFailure[],
  ): Promise<void> => {
    const raw = Buffer.from(parts.join(''), 'utf8');
    const body = options.gzip === true ? await gzipAsync(raw) : raw;
    const response = await postRequest({
      url,
      headers,
      body,
      timeoutMs,
      signal,
      agent,
      sink: name,
    });
    metrics.request(
      LcError.isInstance(response) ? response.code : String(response.status),
    );
    if (LcError.isInstance(response)) {
      const retryable = isRetryableTransportError(response);
      if (!retryable) warnTls(response);
      for (const index of indexes)
        failures.push({ index, retryable, error: response });
      return;
    }
    if (response.status >= 200 && response.status < 300) {
      if (format === 'elasticsearch')
        failures.push(...bulkFailures(response, indexes));
      return;
    }
    const result = classifyHttpStatus(response, {
      sink: name,
      retryOn404: options.retryOn404 === true,
      now: () => clock.now(),
    });
    if (result.status === 'retryable' || result.status === 'failure') {
      logger.warn(
        { sink: name, status: response.status },
        'http sink request failed',
      );
      const retryAfterMs =
        result.status === 'retryable' ? result.retryAfterMs : undefined;
      for (const index of indexes)
        failures.push({
          index,
          retryable: result.status === 'retryable',
          error: result.error,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
    }
  };

  return {
    name,
    async write(batch, { signal }): Promise<WriteResult> {
      if (closed) return shutDownResult(name);
      if (batch.length === 0) return WriteResults.success();
      const failures: RecordFailure[] = [];
      let parts: string[] = [];
      let indexes: number[] = [];
      let bytes = 0;
      for (let i = 0; i < batch.length; i++) {
        const text = encode(batch[i] as LogRecord);
        const size = Buffer.byteLength(text);
        if (size > maxRequestBytes) {
          failures.push({
            index: i,
            retryable: false,
            error: new LcError({
              code: 'LC_ERR_RECORD_TOO_LARGE',
              message: `sink "${name}": record ${i} is ${size} bytes, over maxRequestBytes (${maxRequestBytes})`,
              details: { sink: name, size },
            }),
          });
          continue;
        }
        if (bytes + size > maxRequestBytes) {
          await send(parts, indexes, signal, failures);
          parts = [];
          indexes = [];
          bytes = 0;
        }
        parts.push(text);
        indexes.push(i);
        bytes += size;
      }
      if (parts.length > 0) await send(parts, indexes, signal, failures);
      const failed = failures.filter((f) => !f.retryable).length;
      metrics.records('failed', failed);
      metrics.records('retryable', failures.length - failed);
      metrics.records('delivered', batch.length - failures.length);
      return WriteResults.partial(failures, batch.length);
    },
    async flush() {},
    shutdown: once(async () => {
      closed = true;
      ownAgent?.destroy();
    }),
  };
}
