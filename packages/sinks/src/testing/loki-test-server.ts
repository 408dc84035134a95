import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { uncompressSync } from 'snappy';
import { decodeJsonPush, decodePushRequest } from './loki-push-decoder.js';
import type {
  DecodedLokiEntry,
  DecodedLokiStream,
} from './loki-push-decoder.js';
import { parseLokiLabels } from './parse-loki-labels.js';

/** Limits the test server enforces like Loki's `limits_config`. */
export interface LokiTestServerOptions {
  /** `reject_old_samples_max_age` in ms. @default undefined (off) */
  rejectOldSamplesMaxAgeMs?: number;
  /** `creation_grace_period` in ms (too new). @default undefined (off) */
  creationGracePeriodMs?: number;
  /** `max_line_size` in bytes. @default undefined (off) */
  maxLineSizeBytes?: number;
  /** `max_label_names_per_series`. @default 15 (Loki's default) */
  maxLabelNamesPerSeries?: number;
  /**
   * Requests whose total line bytes exceed this get 429 (no
   * `Retry-After`, like Loki). @default undefined (off)
   */
  maxRequestLineBytes?: number;
  /** Require `X-Scope-OrgID` (Loki `auth_enabled: true`). @default false */
  requireTenant?: boolean;
  /** Expected `Authorization` header value; others get 401. */
  expectAuthorization?: string;
  /** Wall clock in ms. @default Date.now */
  now?: () => number;
  /**
   * Serve HTTPS with these node TLS server options (`key`, `cert`; `ca`
   * with `requestCert` and `rejectUnauthorized` for mutual TLS; `SNICallback`,
   * `minVersion`...). @default plain HTTP
   */
  tls?: HttpsServerOptions;
}

/** A scripted answer for one request. */
export interface LokiTestResponse {
  /** HTTP status to answer. */
  status: number;
  /** Body text. @default '' */
  body?: string;
  /** Extra headers, e.g. `{ 'retry-after': '3' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering (slow Loki). @default 0 */
  delayMs?: number;
  /** Still validate and store the push (it landed, the answer is lost). @default false */
  ingest?: boolean;
  /** Destroy the connection instead of answering. @default false */
  destroy?: boolean;
}

/** One push the server received. */
export interface ReceivedLokiPush {
  readonly headers: IncomingHttpHeaders;
  /** `X-Scope-OrgID`, or `fake` when absent (Loki without auth). */
  readonly tenant: string;
  readonly contentType: string;
  /** Bytes on the wire (compressed). */
  readonly bodyBytes: number;
  /** Decoded streams exactly as sent (empty if the body did not decode). */
  readonly streams: DecodedLokiStream[];
  /** Status the server answered. */
  status: number;
  /** Body the server answered. */
  responseBody: string;
  /** HTTPS: subject CN of the client certificate, if one was presented. */
  readonly clientCertificateCN?: string;
  /** HTTPS: the SNI server name the client sent, if any. */
  readonly tlsServerName?: string;
}

/** A stored entry (after Loki's dedup of identical entries). */
export interface StoredLokiEntry extends DecodedLokiEntry {
  readonly tenant: string;
  /** Canonical stream labels, e.g. `{a="1", b="2"}`. */
  readonly labels: string;
}

/** A local HTTP endpoint that decodes and answers pushes like Loki. */
export interface LokiTestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (`https://` with `tls`). */
  readonly url: string;
  /** Every push received, in order. */
  readonly requests: ReceivedLokiPush[];
  /** Stored entries in ingestion order, optionally for one tenant. */
  entries(tenant?: string): StoredLokiEntry[];
  /** Stored entries grouped by stream labels. */
  streams(tenant?: string): Map<string, StoredLokiEntry[]>;
  /** Queue scripted answers for the next requests, in order. */
  respondWith(...responses: LokiTestResponse[]): void;
  /** Decide per request; return `undefined` to behave like Loki. */
  setHandler(
    handler:
      ((push: ReceivedLokiPush) => LokiTestResponse | undefined) | undefined,
  ): void;
  /** Forget stored entries, requests and scripts. */
  reset(): void;
  /** Stop listening and drop open connections. Idempotent. */
  close(): Promise<void>;
}

const PUSH_PATH = '/loki/api/v1/push';

function fmtSeconds(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Start a real HTTP server on 127.0.0.1 (random port) that accepts Loki
 * pushes on `/loki/api/v1/push` as snappy+protobuf or JSON (optionally
 * gzip), validates them like Loki 2.7 (see loki-behaviour.md: first error
 * wins, valid entries of a rejected push are still stored, identical
 * entries stored once) and answers 204, 400, 401 or 429 with Loki's texts.
 */
export async function createLokiTestServer(
  options: LokiTestServerOptions = {},
): Promise<LokiTestServer> {
  const now = options.now ?? Date.now;
  const maxLabels = options.maxLabelNamesPerSeries ?? 15;
  const requests: ReceivedLokiPush[] = [];
  let stored: StoredLokiEntry[] = [];
  let seen = new Set<string>();
  let script: LokiTestResponse[] = [];
  let handler:
    ((push: ReceivedLokiPush) => LokiTestResponse | undefined) | undefined;

  const ingest = (push: ReceivedLokiPush): { status: number; body: string } => {
    let lineBytes = 0;
    for (const s of push.streams)
      for (const e of s.entries) lineBytes += Buffer.byteLength(e.line);
    if (
      options.maxRequestLineBytes !== undefined &&
      lineBytes > options.maxRequestLineBytes
    ) {
      let lines = 0;
      for (const s of push.streams) lines += s.entries.length;
      return {
        status: 429,
        body: `Ingestion rate limit exceeded for user ${push.tenant} (limit: ${options.maxRequestLineBytes} bytes/sec) while attempting to ingest '${lines}' lines totaling '${lineBytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`,
      };
    }
    let firstError: string | undefined;
    const nowNs = BigInt(Math.floor(now())) * 1_000_000n;
    for (const stream of push.streams) {
      const parsed = parseLokiLabels(stream.labels);
      if (typeof parsed === 'string') {
        firstError ??= parsed;
        continue;
      }
      const names = Object.keys(parsed).sort();
      const labels = `{${names.map((n) => `${n}=${JSON.stringify(parsed[n])}`).join(', ')}}`;
      if (names.length === 0) {
        firstError ??= 'error at least one label pair is required per stream';
        continue;
      }
      if (names.length > maxLabels) {
        firstError ??= `entry for stream '${labels}' has ${names.length} label names; limit ${maxLabels}`;
        continue;
      }
      for (const entry of stream.entries) {
        const ts = BigInt(entry.timestampNs);
        if (options.rejectOldSamplesMaxAgeMs !== undefined) {
          const oldest =
            nowNs - BigInt(options.rejectOldSamplesMaxAgeMs) * 1_000_000n;
          if (ts < oldest) {
            firstError ??= `entry for stream '${labels}' has timestamp too old: ${fmtSeconds(ts)}, oldest acceptable timestamp is: ${fmtSeconds(oldest)}`;
            continue;
          }
        }
        if (
          options.creationGracePeriodMs !== undefined &&
          ts > nowNs + BigInt(options.creationGracePeriodMs) * 1_000_000n
        ) {
          firstError ??= `entry for stream '${labels}' has timestamp too new: ${fmtSeconds(ts)}`;
          continue;
        }
        const len = Buffer.byteLength(entry.line);
        if (
          options.maxLineSizeBytes !== undefined &&
          len > options.maxLineSizeBytes
        ) {
          firstError ??= `Max entry size '${options.maxLineSizeBytes}' bytes exceeded for stream '${labels}' while adding an entry with length '${len}' bytes`;
          continue;
        }
        const key = `${push.tenant}\u0000${labels}\u0000${entry.timestampNs}\u0000${entry.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
        stored.push({ ...entry, tenant: push.tenant, labels });
      }
    }
    return firstError === undefined
      ? { status: 204, body: '' }
      : { status: 400, body: firstError };
  };

  const answer = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void => {
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      ...headers,
    });
    res.end(status === 204 ? undefined : `${body}\n`);
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const body = await readBody(req);
    if (req.method !== 'POST' || req.url?.split('?')[0] !== PUSH_PATH) {
      answer(res, 404, '404 page not found');
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '');
    const tenantHeader = req.headers['x-scope-orgid'];
    const socket = req.socket as Partial<TLSSocket>;
    const cn = socket.getPeerCertificate?.()?.subject?.CN;
    const sni = socket.servername;
    const push: ReceivedLokiPush = {
      ...(typeof cn === 'string' ? { clientCertificateCN: cn } : {}),
      ...(typeof sni === 'string' ? { tlsServerName: sni } : {}),
      headers: req.headers,
      tenant: typeof tenantHeader === 'string' ? tenantHeader : 'fake',
      contentType,
      bodyBytes: body.length,
      streams: [],
      status: 0,
      responseBody: '',
    };
    requests.push(push);
    const reply = (
      status: number,
      text: string,
      headers?: Record<string, string>,
    ): void => {
      push.status = status;
      push.responseBody = text;
      answer(res, status, text, headers);
    };
    if (
      options.expectAuthorization !== undefined &&
      req.headers.authorization !== options.expectAuthorization
    ) {
      reply(401, 'Unauthorized');
      return;
    }
    if (options.requireTenant === true && typeof tenantHeader !== 'string') {
      reply(401, 'no org id');
      return;
    }
    try {
      if (contentType.startsWith('application/x-protobuf')) {
        let raw: Buffer;
        try {
          raw = uncompressSync(body, { asBuffer: true }) as Buffer;
        } catch {
          reply(400, 'snappy: corrupt input');
          return;
        }
        push.streams.push(...decodePushRequest(raw));
      } else {
        const text =
          req.headers['content-encoding'] === 'gzip'
            ? gunzipSync(body).toString('utf8')
            : body.toString('utf8');
        push.streams.push(...decodeJsonPush(text));
      }
    } catch (error) {
      reply(400, `loghttp.PushRequest: ${(error as Error).message}`);
      return;
    }
    const scripted = script.shift() ?? handler?.(push);
    if (scripted !== undefined) {
      if (scripted.delayMs !== undefined && scripted.delayMs > 0) {
        await new Promise((r) => setTimeout(r, scripted.delayMs));
      }
      if (scripted.ingest === true) ingest(push);
      if (scripted.destroy === true) {
        push.status = -1;
        res.socket?.destroy();
        return;
      }
      reply(scripted.status, scripted.body ?? '', scripted.headers);
      return;
    }
    const result = ingest(push);
    reply(result.status, result.body);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, String(error));
    });
  };
  const server =
    options.tls === undefined
      ? createServer(onRequest)
      : createHttpsServer(options.tls, onRequest);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  const filter = (tenant?: string): StoredLokiEntry[] =>
    tenant === undefined ? stored : stored.filter((e) => e.tenant === tenant);

  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests,
    entries: (tenant) => [...filter(tenant)],
    streams(tenant) {
      const out = new Map<string, StoredLokiEntry[]>();
      for (const e of filter(tenant)) {
        const list = out.get(e.labels) ?? [];
        list.push(e);
        out.set(e.labels, list);
      }
      return out;
    },
    respondWith: (...responses) => {
      script.push(...responses);
    },
    setHandler: (h) => {
      handler = h;
    },
    reset() {
      requests.length = 0;
      stored = [];
      seen = new Set();
      script = [];
      handler = undefined;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
