import type { Agent } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  LcError,
  once,
  shutDownResult,
  silentLogger,
  systemClock,
  timestampFromMs,
  WriteResults,
} from '@lc/core';
import type {
  Instrumentation,
  LogRecord,
  RecordFailure,
  Sink,
  WriteResult,
} from '@lc/core';
import type { SinkTlsOptions } from './check-sink-tls.js';
import {
  isRetryableTransportError,
  postRequest,
} from './internal/http-request.js';
import { createOtlpMetrics } from './internal/otlp-metrics.js';
import { resolveOtlpOptions } from './internal/otlp-options.js';
import {
  encodeExportLogsJson,
  logRecordJson,
  resourceJsonBytes,
} from './internal/otlp-json.js';
import type { OtlpJsonGroup } from './internal/otlp-json.js';
import { createOtlpMapper } from './internal/otlp-mapping.js';
import type { MappedRecord } from './internal/otlp-mapping.js';
import {
  encodeExportLogsRequest,
  logRecordWireBytes,
  resourceWireBytes,
} from './internal/otlp-proto.js';
import type { OtlpInstant, OtlpResourceLogs } from './internal/otlp-proto.js';
import { classifyOtlpResponse } from './internal/otlp-response.js';
import { permanentFailureWarner, sinkHttpAgent } from './internal/tls.js';

const gzipAsync = promisify(gzip);

/** Options of {@link createOtlpSink}. */
export interface OtlpSinkOptions extends Instrumentation {
  /**
   * Base URL of an OTLP/HTTP receiver, e.g. `http://collector:4318`;
   * `/v1/logs` is appended to its path (the OpenTelemetry
   * `OTEL_EXPORTER_OTLP_ENDPOINT` rule). Give this or `logsEndpoint`.
   */
  endpoint?: string;
  /**
   * Full URL the logs are POSTed to, used as is (the
   * `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` rule), e.g.
   * `https://otlp.example.com/otlp/v1/logs`. Give this or `endpoint`.
   */
  logsEndpoint?: string;
  /** Sink name for metrics and errors. @default 'otlp' */
  name?: string;
  /** Body encoding. @default 'protobuf' */
  encoding?: 'protobuf' | 'json';
  /** Body compression (`Content-Encoding`). @default 'gzip' */
  compression?: 'gzip' | 'none';
  /**
   * Extra request headers, e.g. `{ authorization: 'Bearer …' }`; headers
   * with an empty value are not sent. `content-type` and
   * `content-encoding` are the sink's.
   */
  headers?: Record<string, string>;
  /** Per-request timeout in ms. @default 10000 (the OTel exporters' default) */
  requestTimeoutMs?: number;
  /**
   * Record labels that form the resource: label name → resource attribute
   * name, in precedence order (the first label present for a name wins;
   * the others stay log attributes). Replaces the default map; `{}` puts
   * every label on the log records.
   * @default service_name/service.name/compose_service/job → service.name,
   * host/hostname/instance → host.name, k8s and container names (README)
   */
  resourceLabels?: Readonly<Record<string, string>>;
  /**
   * Resource attributes for names no label provides, e.g.
   * `{ 'service.name': 'checkout', 'deployment.environment.name': 'prod' }`.
   * @default {}
   */
  resourceAttributes?: Readonly<Record<string, string>>;
  /**
   * Renames of labels and metadata entries that become log attributes.
   * Replaces the default map.
   * @default { file_path: 'log.file.path', file_name: 'log.file.name', stream: 'log.iostream' }
   */
  attributeNames?: Readonly<Record<string, string>>;
  /**
   * Metadata or label keys whose value is the level; the first present
   * sets SeverityText and SeverityNumber (table in the README) and is not
   * repeated as an attribute.
   * @default ['level', 'severity', 'severity_text', 'log_level', 'loglevel', 'lvl']
   */
  severityKeys?: readonly string[];
  /** Keys holding a hex trace id. @default ['trace_id', 'traceid', 'traceId', 'trace.id'] */
  traceIdKeys?: readonly string[];
  /** Keys holding a hex span id. @default ['span_id', 'spanid', 'spanId', 'span.id'] */
  spanIdKeys?: readonly string[];
  /** Keys holding a W3C `traceparent` (wins over the id keys). @default ['traceparent'] */
  traceparentKeys?: readonly string[];
  /**
   * When a 2xx answer reports `partial_success.rejected_log_records > 0`:
   * `log` counts them (`lc_sink_otlp_rejected_records_total`), logs a
   * warning and reports the request delivered (the spec forbids retrying
   * it and does not say which records were rejected); `dlq` reports every
   * record of the request failed, so the DLQ holds the rejected ones — and
   * copies of the accepted ones. @default 'log'
   */
  partialSuccess?: 'log' | 'dlq';
  /** Max uncompressed body bytes per request; bigger batches are split. @default 4 MiB */
  maxRequestBytes?: number;
  /**
   * TLS for an `https://` endpoint: a private CA, a client certificate
   * (mutual TLS), SNI, minimum version. Not with `agent`.
   */
  tls?: SinkTlsOptions;
  /**
   * HTTP(S) agent (its protocol must match the URL; not with `tls`).
   * @default a keep-alive agent owned by the sink, with `tls` applied
   */
  agent?: Agent;
}

interface Chunk {
  readonly indexes: number[];
  readonly mapped: MappedRecord[];
  readonly json: string[];
}

/** At most one partial-success warning per sink this often. */
const PARTIAL_LOG_EVERY_MS = 10_000;

/**
 * A sink that exports records as OTLP logs over HTTP (protobuf or JSON,
 * gzip by default) to an OpenTelemetry Collector or any OTLP/HTTP
 * receiver. Labels become resource or log attributes by a documented
 * rule; the level, trace and span ids become first-class fields. Answers
 * follow the OTLP retry rules. After `shutdown`, `write` resolves
 * `failure` `LC_ERR_SHUT_DOWN`.
 */
export function createOtlpSink(options: OtlpSinkOptions): Sink {
  const o = resolveOtlpOptions(options);
  const { name } = o;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = createOtlpMetrics(options.registry, name);
  const { agent, owned: ownAgent } = sinkHttpAgent({
    factory: 'createOtlpSink',
    sink: name,
    url: o.url,
    tls: options.tls,
    agent: options.agent,
    logger,
  });
  const warnTls = permanentFailureWarner(logger, name, () => clock.now());
  const map = createOtlpMapper(o.mapping);
  // Empty values are not sent, so `authorization: ${TOKEN:-}` is optional.
  const headers: Record<string, string> = {
    'user-agent': 'lc-sinks',
    ...Object.fromEntries(
      Object.entries(options.headers ?? {})
        .filter(([, v]) => v !== '')
        .map(([k, v]) => [k.toLowerCase(), v]),
    ),
    'content-type':
      o.encoding === 'json' ? 'application/json' : 'application/x-protobuf',
  };
  if (o.gzip) headers['content-encoding'] = 'gzip';
  else delete headers['content-encoding'];
  let closed = false;
  const partialLog = { atMs: -Infinity, suppressed: 0 };

  /** Split into requests of at most `maxRequestBytes`. */
  const chunk = (
    batch: readonly LogRecord[],
    observed: OtlpInstant,
    failures: RecordFailure[],
  ): Chunk[] => {
    const chunks: Chunk[] = [];
    let current: Chunk = { indexes: [], mapped: [], json: [] };
    let bytes = 0;
    let seen = new Set<string>();
    for (let i = 0; i < batch.length; i++) {
      const m = map(batch[i] as LogRecord);
      let json: string | undefined;
      let size: number;
      let overhead: number;
      if (o.encoding === 'json') {
        json = logRecordJson(m.record, observed);
        size = Buffer.byteLength(json) + 1;
        overhead = resourceJsonBytes(m.resource);
      } else {
        size = logRecordWireBytes(m.record);
        overhead = resourceWireBytes(m.resource);
      }
      if (size + overhead + 32 > o.maxRequestBytes) {
        failures.push({
          index: i,
          retryable: false,
          error: new LcError({
            code: 'LC_ERR_RECORD_TOO_LARGE',
            message: `sink "${name}": record ${i} needs ${size + overhead} bytes on the wire, more than maxRequestBytes (${o.maxRequestBytes})`,
            details: { sink: name, maxRequestBytes: o.maxRequestBytes },
          }),
        });
        continue;
      }
      let need = size + (seen.has(m.resourceKey) ? 0 : overhead);
      if (bytes + need + 32 > o.maxRequestBytes && current.indexes.length > 0) {
        chunks.push(current);
        current = { indexes: [], mapped: [], json: [] };
        bytes = 0;
        seen = new Set();
        need = size + overhead;
      }
      seen.add(m.resourceKey);
      current.indexes.push(i);
      current.mapped.push(m);
      if (json !== undefined) current.json.push(json);
      bytes += need;
    }
    if (current.indexes.length > 0) chunks.push(current);
    return chunks;
  };

  const encode = async (c: Chunk, observed: OtlpInstant): Promise<Buffer> => {
    // One ResourceLogs per resource, in order of first appearance.
    const byResource = new Map<string, number>();
    const groups: Array<{ resource: MappedRecord['resource']; at: number[] }> =
      [];
    c.mapped.forEach((m, k) => {
      let g = byResource.get(m.resourceKey);
      if (g === undefined) {
        g = groups.length;
        byResource.set(m.resourceKey, g);
        groups.push({ resource: m.resource, at: [] });
      }
      groups[g]?.at.push(k);
    });
    let raw: Buffer;
    if (o.encoding === 'json') {
      const jsonGroups: OtlpJsonGroup[] = groups.map((g) => ({
        resource: g.resource,
        records: g.at.map((k) => c.json[k] as string),
      }));
      raw = Buffer.from(encodeExportLogsJson(jsonGroups), 'utf8');
    } else {
      const protoGroups: OtlpResourceLogs[] = groups.map((g) => ({
        resource: g.resource,
        records: g.at.map((k) => (c.mapped[k] as MappedRecord).record),
      }));
      raw = encodeExportLogsRequest(protoGroups, observed);
    }
    return o.gzip ? gzipAsync(raw) : raw;
  };

  const logPartial = (rejected: number, total: number, message: string) => {
    const now = clock.now();
    if (now - partialLog.atMs < PARTIAL_LOG_EVERY_MS) {
      partialLog.suppressed++;
      return;
    }
    logger.warn(
      {
        sink: name,
        rejected,
        records: total,
        errorMessage: message,
        action:
          rejected === 0
            ? 'none'
            : o.partialSuccess === 'dlq'
              ? 'dead-lettered'
              : 'counted',
        ...(partialLog.suppressed > 0
          ? { alsoPartialSinceLastLog: partialLog.suppressed }
          : {}),
      },
      rejected === 0
        ? `sink ${name}: the OTLP endpoint accepted every record with a warning: ${message}`
        : `sink ${name}: the OTLP endpoint rejected ${rejected} of ${total} log records: ${message}`,
    );
    partialLog.atMs = now;
    partialLog.suppressed = 0;
  };

  const send = async (
    c: Chunk,
    observed: OtlpInstant,
    signal: AbortSignal,
    failures: RecordFailure[],
  ): Promise<void> => {
    const fail = (
      retryable: boolean,
      error: LcError,
      retryAfterMs?: number,
    ) => {
      for (const index of c.indexes)
        failures.push({
          index,
          retryable,
          error,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
    };
    if (signal.aborted) {
      fail(
        true,
        new LcError({
          code: 'LC_ERR_ABORTED',
          message: `sink "${name}": write aborted`,
        }),
      );
      return;
    }
    const body = await encode(c, observed);
    const response = await postRequest({
      url: o.url,
      headers,
      body,
      timeoutMs: o.timeoutMs,
      signal,
      agent,
      sink: name,
    });
    if (LcError.isInstance(response)) {
      metrics.request(response.code);
      const retryable = isRetryableTransportError(response);
      if (!retryable) warnTls(response);
      fail(retryable, response);
      return;
    }
    metrics.request(String(response.status));
    const outcome = classifyOtlpResponse(response, name, clock.now());
    if (outcome.kind === 'retryable')
      fail(true, outcome.error, outcome.retryAfterMs);
    else if (outcome.kind === 'failure') fail(false, outcome.error);
    else if (outcome.partial !== undefined) {
      const { rejectedLogRecords: rejected, errorMessage } = outcome.partial;
      logPartial(rejected, c.indexes.length, errorMessage);
      // rejected 0 with a message is a warning: every record was accepted.
      if (rejected === 0) return;
      metrics.rejected(rejected);
      if (o.partialSuccess === 'dlq')
        fail(
          false,
          new LcError({
            code: 'LC_ERR_SINK_REJECTED',
            message: `sink "${name}": the OTLP endpoint rejected ${rejected} of ${c.indexes.length} log records (partial success: ${errorMessage}); OTLP does not say which, so the whole request is dead-lettered and replaying it duplicates the accepted ones`,
            details: { sink: name, rejected, records: c.indexes.length },
          }),
        );
    }
  };

  return {
    name,
    async write(batch, { signal }): Promise<WriteResult> {
      if (closed) return shutDownResult(name);
      if (batch.length === 0) return WriteResults.success();
      const observed = timestampFromMs(clock.now());
      const failures: RecordFailure[] = [];
      for (const c of chunk(batch, observed, failures))
        await send(c, observed, signal, failures);
      const failed = failures.filter((f) => !f.retryable).length;
      metrics.records('failed', failed);
      metrics.records('retryable', failures.length - failed);
      metrics.records('delivered', batch.length - failures.length);
      return WriteResults.partial(failures, batch.length);
    },
    async flush() {
      // Every acknowledged write already reached the endpoint; nothing is held.
    },
    shutdown: once(async () => {
      closed = true;
      ownAgent?.destroy();
    }),
  };
}
