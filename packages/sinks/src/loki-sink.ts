import type { Agent } from 'node:http';
import {
  formatTimestampNs,
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
  RecordFailure,
  Sink,
  WriteResult,
} from '@lc/core';
import { classifyHttpStatus } from './internal/classify-http.js';
import {
  isRetryableTransportError,
  postRequest,
} from './internal/http-request.js';
import { encodeBody, groupStreams } from './internal/loki-body.js';
import type { LokiEncoding, WorkEntry } from './internal/loki-body.js';
import { createLokiEntries } from './internal/loki-entries.js';
import type { ExcessLabelAction } from './internal/loki-labels.js';
import {
  OUT_OF_ORDER_KINDS,
  parseRejection,
} from './internal/loki-rejection.js';
import { createSinkMetrics } from './internal/sink-metrics.js';
import { permanentFailureWarner, sinkHttpAgent } from './internal/tls.js';
import { requireUrl, validatePositive } from './internal/validate.js';

/** Options of {@link createLokiSink}. */
export interface LokiSinkOptions extends Instrumentation {
  /** Loki base URL, e.g. `http://loki:3100`. Required. */
  url: string;
  /** Sink name for metrics and errors. @default 'loki' */
  name?: string;
  /** Push path appended to `url`. @default '/loki/api/v1/push' */
  pushPath?: string;
  /** Wire format. @default 'protobuf' (snappy-compressed) */
  encoding?: LokiEncoding;
  /** Gzip JSON bodies (`encoding: 'json'` only). @default false */
  gzip?: boolean;
  /** Static tenant sent as `X-Scope-OrgID`. @default none */
  tenant?: string;
  /** Take the tenant from this record label (removed from the stream); falls back to `tenant`. */
  tenantLabel?: string;
  /** HTTP basic auth. */
  basicAuth?: { username: string; password: string };
  /** Bearer token (`Authorization: Bearer …`). */
  bearerToken?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Labels added to every stream; a record label of the same name wins. @default {} */
  staticLabels?: Record<string, string>;
  /** Only these (sanitised) record labels are indexed; others follow `excessLabels`. @default all */
  labelAllowList?: readonly string[];
  /** What happens to labels that may not be indexed. @default 'metadata' (structured metadata) */
  excessLabels?: ExcessLabelAction;
  /**
   * Cardinality guard: at most this many streams per request. Records of
   * further streams keep only `keepLabelsOnOverflow` (others follow
   * `excessLabels`), so they fold into coarser streams. @default unlimited
   */
  maxStreams?: number;
  /** Labels kept on streams over `maxStreams`. @default the static labels and the allow-list */
  keepLabelsOnOverflow?: readonly string[];
  /** Labels for records that end up with none (Loki requires one). @default { service_name: 'unknown_service' } */
  fallbackLabels?: Record<string, string>;
  /**
   * What to do with entries Loki rejects as too old / too far behind / out
   * of order: `dlq` (failure), `drop` (count and report delivered) or
   * `rewrite` (re-push with the current time; original timestamp in the
   * `lc_original_timestamp` structured metadata). @default 'dlq'
   */
  outOfOrder?: 'dlq' | 'drop' | 'rewrite';
  /** Max uncompressed protobuf bytes per request; bigger batches are split. @default 4 MiB */
  maxRequestBytes?: number;
  /** Per-request timeout in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** Treat 404 as retryable (proxy in front of a restarting Loki). @default false */
  retryOn404?: boolean;
  /**
   * After a 400, Loki has stored the valid entries but named only the
   * first bad one. The sink re-pushes the rest (idempotent in Loki) up to
   * this many times to learn each entry's outcome; still unconfirmed ones
   * are reported retryable. @default 2
   */
  maxConfirmRounds?: number;
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

const DEFAULT_PUSH_PATH = '/loki/api/v1/push';
const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONFIRM_ROUNDS = 2;
const DEFAULT_FALLBACK = { service_name: 'unknown_service' };
const ORIGINAL_TS_KEY = 'lc_original_timestamp';

/**
 * A sink that pushes to Grafana Loki (protobuf + snappy by default, or
 * JSON). Every outcome becomes a {@link WriteResult}, per record when Loki
 * accepts part of a push. After `shutdown`, `write` resolves `failure`
 * `LC_ERR_SHUT_DOWN`.
 */
export function createLokiSink(options: LokiSinkOptions): Sink {
  const name = options.name ?? 'loki';
  const url = requireUrl('createLokiSink', 'url', options.url);
  const pushUrl = new URL(url.href);
  pushUrl.pathname = `${url.pathname.replace(/\/+$/, '')}/${(options.pushPath ?? DEFAULT_PUSH_PATH).replace(/^\/+/, '')}`;
  const encoding = options.encoding ?? 'protobuf';
  if (encoding !== 'protobuf' && encoding !== 'json') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `createLokiSink: encoding must be 'protobuf' or 'json', got ${JSON.stringify(encoding)}`,
    });
  }
  const outOfOrder = options.outOfOrder ?? 'dlq';
  if (!['dlq', 'drop', 'rewrite'].includes(outOfOrder)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `createLokiSink: outOfOrder must be 'dlq', 'drop' or 'rewrite', got ${JSON.stringify(outOfOrder)}`,
    });
  }
  const maxRequestBytes = validatePositive(
    'createLokiSink',
    'maxRequestBytes',
    options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
  );
  const timeoutMs = validatePositive(
    'createLokiSink',
    'requestTimeoutMs',
    options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
  const maxStreams =
    options.maxStreams === undefined
      ? Infinity
      : validatePositive('createLokiSink', 'maxStreams', options.maxStreams);
  const confirmRounds = options.maxConfirmRounds ?? DEFAULT_CONFIRM_ROUNDS;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = createSinkMetrics(options.registry, 'loki', name);
  const { agent, owned: ownAgent } = sinkHttpAgent({
    factory: 'createLokiSink',
    sink: name,
    url,
    tls: options.tls,
    agent: options.agent,
    logger,
  });
  const warnTls = permanentFailureWarner(logger, name, () => clock.now());
  const { toEntries, chunk } = createLokiEntries({
    sink: name,
    staticLabels: options.staticLabels ?? {},
    labelAllowList: options.labelAllowList,
    keepLabelsOnOverflow: options.keepLabelsOnOverflow,
    tenantLabel: options.tenantLabel,
    tenant: options.tenant,
    fallbackLabels: options.fallbackLabels ?? DEFAULT_FALLBACK,
    excessLabels: options.excessLabels ?? 'metadata',
    maxStreams,
    maxRequestBytes,
    metrics,
  });
  const baseHeaders: Record<string, string> = {
    'user-agent': 'lc-sinks',
    ...options.headers,
  };
  if (options.basicAuth !== undefined) {
    const { username, password } = options.basicAuth;
    baseHeaders.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  } else if (options.bearerToken !== undefined) {
    baseHeaders.authorization = `Bearer ${options.bearerToken}`;
  }
  let closed = false;
  let rewriteNanos = 0;

  const pushOnce = async (
    tenant: string,
    entries: readonly WorkEntry[],
    signal: AbortSignal,
  ) => {
    const { body, headers } = await encodeBody(
      groupStreams(entries),
      encoding,
      options.gzip === true,
    );
    const reqHeaders = { ...baseHeaders, ...headers };
    if (tenant !== '') reqHeaders['x-scope-orgid'] = tenant;
    const response = await postRequest({
      url: pushUrl,
      headers: reqHeaders,
      body,
      timeoutMs,
      signal,
      agent,
      sink: name,
    });
    metrics.request(
      LcError.isInstance(response) ? response.code : String(response.status),
    );
    return response;
  };

  const rewrite = (e: WorkEntry): WorkEntry => {
    const now = clock.now();
    rewriteNanos = (rewriteNanos + 1) % 1_000_000;
    return {
      ...e,
      timestampMs: Math.floor(now),
      timestampNanos: rewriteNanos,
      metadata: [
        ...(e.metadata ?? []),
        [ORIGINAL_TS_KEY, formatTimestampNs(e)],
      ],
    };
  };

  /** Push one request, resolving per-entry outcomes through confirm rounds. */
  const pushEntries = async (
    tenant: string,
    entries: WorkEntry[],
    signal: AbortSignal,
    failures: RecordFailure[],
  ): Promise<void> => {
    let pending = entries;
    const rewritten = new Set<number>();
    for (let round = 0; pending.length > 0; round++) {
      const response = await pushOnce(tenant, pending, signal);
      if (LcError.isInstance(response)) {
        const retryable = isRetryableTransportError(response);
        if (!retryable) warnTls(response);
        for (const e of pending)
          failures.push({ index: e.index, retryable, error: response });
        return;
      }
      if (response.status >= 200 && response.status < 300) return;
      if (response.status !== 400) {
        const result = classifyHttpStatus(response, {
          sink: name,
          retryOn404: options.retryOn404 === true,
          now: () => clock.now(),
        });
        if (result.status === 'retryable' || result.status === 'failure') {
          const retryable = result.status === 'retryable';
          const retryAfterMs =
            result.status === 'retryable' ? result.retryAfterMs : undefined;
          for (const e of pending)
            failures.push({
              index: e.index,
              retryable,
              error: result.error,
              ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            });
        }
        return;
      }
      const text = response.body.trim();
      const rejection = parseRejection(text);
      const error = new LcError({
        code: 'LC_ERR_SINK_REJECTED',
        message: `Loki rejected entries (400): ${text.slice(0, 512)}`,
        details: {
          sink: name,
          status: 400,
          kind: rejection.kind,
          body: text.slice(0, 1024),
        },
      });
      const offenders: WorkEntry[] = [];
      const rest: WorkEntry[] = [];
      for (const e of pending) {
        const hit = rejection.matches({
          labels: e.labels,
          labelCount: e.labelCount,
          timestampMs: e.timestampMs,
          lineBytes: Buffer.byteLength(e.line),
        });
        (hit ? offenders : rest).push(e);
      }
      if (offenders.length === 0) {
        // Unrecognised text: Loki may have stored some entries, but which is unknown.
        for (const e of pending)
          failures.push({ index: e.index, retryable: false, error });
        logger.warn(
          { sink: name, body: text },
          'Loki rejected a push with an unrecognised 400',
        );
        return;
      }
      const next: WorkEntry[] = [];
      for (const e of offenders) {
        if (
          OUT_OF_ORDER_KINDS.has(rejection.kind) &&
          outOfOrder !== 'dlq' &&
          !rewritten.has(e.index)
        ) {
          if (outOfOrder === 'drop') {
            metrics.records('dropped', 1);
            continue;
          }
          rewritten.add(e.index);
          next.push(rewrite(e));
          continue;
        }
        failures.push({ index: e.index, retryable: false, error });
      }
      pending = [...rest, ...next];
      if (pending.length > 0 && round >= confirmRounds) {
        const unconfirmed = new LcError({
          code: 'LC_ERR_SINK_REJECTED',
          message: `Loki answered 400 for a push holding these entries and their delivery could not be confirmed after ${round + 1} pushes; re-pushing is safe (Loki stores identical entries once)`,
          details: { sink: name, body: text.slice(0, 1024) },
        });
        for (const e of pending)
          failures.push({
            index: e.index,
            retryable: true,
            error: unconfirmed,
          });
        return;
      }
    }
  };

  const shutdown = once(async () => {
    closed = true;
    ownAgent?.destroy();
  });

  return {
    name,
    async write(batch, { signal }): Promise<WriteResult> {
      if (closed) return shutDownResult(name);
      if (batch.length === 0) return WriteResults.success();
      const failures: RecordFailure[] = [];
      const byTenant = toEntries(batch, failures);
      for (const [tenant, entries] of byTenant) {
        for (const part of chunk(entries)) {
          if (signal.aborted) {
            const error = new LcError({
              code: 'LC_ERR_ABORTED',
              message: `sink "${name}": write aborted`,
            });
            for (const e of part)
              failures.push({ index: e.index, retryable: true, error });
            continue;
          }
          await pushEntries(tenant, part, signal, failures);
        }
      }
      const failed = failures.filter((f) => !f.retryable).length;
      metrics.records('failed', failed);
      metrics.records('retryable', failures.length - failed);
      metrics.records('delivered', batch.length - failures.length);
      return WriteResults.partial(failures, batch.length);
    },
    async flush() {
      // Every acknowledged write already reached Loki; nothing is held.
    },
    shutdown,
  };
}
