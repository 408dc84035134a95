/**
 * A local OTLP/HTTP logs endpoint for tests. No OpenTelemetry Collector can
 * be installed here, so this real HTTP server on 127.0.0.1 speaks the wire
 * format instead: it accepts `POST /v1/logs` as `application/x-protobuf` or
 * `application/json` (optionally gzip), decodes every request with the
 * official OTLP definitions (./otlp-decoder.ts), and answers like a
 * Collector's OTLP receiver: 200 with an `ExportLogsServiceResponse`
 * (optionally a `partial_success`), 400 with a `google.rpc.Status` for an
 * undecodable body, 404 for another path, 415 for another content type,
 * or whatever a test scripts (429 + `Retry-After`, 503, ...).
 */
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
import protobuf from 'protobufjs';
import {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  otlpLogsService,
} from './otlp-decoder.js';
import type {
  DecodedOtlpRecord,
  DecodedOtlpResourceLogs,
} from './otlp-decoder.js';

/** A scripted answer. */
export interface OtlpTestResponse {
  /** HTTP status. */
  readonly status: number;
  /** `Retry-After` header value (seconds or an HTTP date). */
  readonly retryAfter?: string;
  /** Error answers: the `google.rpc.Status` message (in the request's encoding). */
  readonly message?: string;
  /** 2xx answers: report this partial success. */
  readonly partialSuccess?: {
    readonly rejectedLogRecords: number;
    readonly errorMessage?: string;
  };
  /** Raw body instead of an OTLP one (e.g. a proxy's text page). */
  readonly body?: string;
  /** Content type of `body`. @default 'text/plain' */
  readonly contentType?: string;
}

/** One request the server received. */
export interface ReceivedOtlpRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** CN of the client certificate (HTTPS with requestCert). */
  readonly clientCertificateCN?: string;
  /** SNI name the client sent (HTTPS). */
  readonly tlsServerName?: string;
  readonly encoding: 'protobuf' | 'json' | 'unknown';
  readonly gzip: boolean;
  /** Bytes on the wire. */
  readonly bodyBytes: number;
  /** Decoded request (empty when it did not decode). */
  readonly resourceLogs: DecodedOtlpResourceLogs[];
  /** Why it did not decode. */
  decodeError?: string;
  /** Status answered. */
  status: number;
}

/** Options of {@link createOtlpTestServer}. */
export interface OtlpTestServerOptions {
  /** Path accepted. @default '/v1/logs' */
  readonly path?: string;
  /** Required `authorization` header value; others get 401. */
  readonly expectAuthorization?: string;
  /** Serve HTTPS with these options (key, cert, ca, requestCert…). @default plain HTTP */
  readonly tls?: HttpsServerOptions;
}

/** The running endpoint. */
export interface OtlpTestServer {
  /** Base URL, e.g. `http://127.0.0.1:4318` (for `endpoint`). */
  readonly url: string;
  /** The full logs URL (for `logs_endpoint`). */
  readonly logsUrl: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedOtlpRequest[];
  /** Records of requests answered 2xx, in arrival order. */
  records(): DecodedOtlpRecord[];
  /** Queue answers for the next requests (after decoding), in order. */
  respondWith(...responses: OtlpTestResponse[]): void;
  /** Decide per request; `undefined` answers 200. */
  setHandler(
    handler:
      | ((request: ReceivedOtlpRequest) => OtlpTestResponse | undefined)
      | undefined,
  ): void;
  /** Forget requests, records and scripts. */
  reset(): void;
  /** Stop listening and drop connections. Idempotent. */
  close(): Promise<void>;
}

// google.rpc.Status, as OTLP/HTTP error bodies carry it.
const Status = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().add(Status);

/** gRPC code a Collector puts in the Status for an HTTP status. */
function grpcCode(status: number): number {
  if (status === 400) return 3; // INVALID_ARGUMENT
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 503 || status === 502 || status === 504) return 14; // UNAVAILABLE
  return 2; // UNKNOWN
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Start the endpoint on 127.0.0.1 (random port). */
export async function createOtlpTestServer(
  options: OtlpTestServerOptions = {},
): Promise<OtlpTestServer> {
  const path = options.path ?? '/v1/logs';
  const requests: ReceivedOtlpRequest[] = [];
  let stored: DecodedOtlpRecord[] = [];
  let script: OtlpTestResponse[] = [];
  let handler:
    ((r: ReceivedOtlpRequest) => OtlpTestResponse | undefined) | undefined;

  const answer = (
    res: ServerResponse,
    request: ReceivedOtlpRequest | undefined,
    json: boolean,
    r: OtlpTestResponse,
  ): void => {
    if (request !== undefined) request.status = r.status;
    const headers: Record<string, string> = {};
    if (r.retryAfter !== undefined) headers['retry-after'] = r.retryAfter;
    let body: Buffer;
    if (r.body !== undefined) {
      headers['content-type'] = r.contentType ?? 'text/plain';
      body = Buffer.from(r.body);
    } else if (r.status >= 200 && r.status < 300) {
      const ps = r.partialSuccess;
      const message =
        ps === undefined
          ? {}
          : {
              partialSuccess: {
                rejectedLogRecords: String(ps.rejectedLogRecords),
                errorMessage: ps.errorMessage ?? '',
              },
            };
      headers['content-type'] = json
        ? 'application/json'
        : 'application/x-protobuf';
      const T = otlpLogsService.ExportLogsServiceResponse;
      body = json
        ? Buffer.from(JSON.stringify(message))
        : Buffer.from(T.encode(T.fromObject(message)).finish());
    } else {
      const status = {
        code: grpcCode(r.status),
        message: r.message ?? `status ${r.status}`,
      };
      headers['content-type'] = json
        ? 'application/json'
        : 'application/x-protobuf';
      body = json
        ? Buffer.from(JSON.stringify(status))
        : Buffer.from(Status.encode(Status.fromObject(status)).finish());
    }
    res.writeHead(r.status, headers);
    res.end(body);
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const json = contentType.startsWith('application/json');
    const proto = contentType.startsWith('application/x-protobuf');
    const gzip = req.headers['content-encoding'] === 'gzip';
    const socket = req.socket as Partial<TLSSocket>;
    const cn = socket.getPeerCertificate?.()?.subject?.CN;
    const sni = socket.servername;
    const request: ReceivedOtlpRequest = {
      ...(typeof cn === 'string' ? { clientCertificateCN: cn } : {}),
      ...(typeof sni === 'string' ? { tlsServerName: sni } : {}),
      path: req.url ?? '',
      headers: req.headers,
      encoding: json ? 'json' : proto ? 'protobuf' : 'unknown',
      gzip,
      bodyBytes: raw.length,
      resourceLogs: [],
      status: 0,
    };
    requests.push(request);
    if (req.method !== 'POST' || request.path.split('?')[0] !== path) {
      answer(res, request, json, { status: 404, body: '404 page not found' });
      return;
    }
    if (
      options.expectAuthorization !== undefined &&
      req.headers.authorization !== options.expectAuthorization
    ) {
      answer(res, request, json, {
        status: 401,
        message: 'missing or wrong credentials',
      });
      return;
    }
    if (!json && !proto) {
      answer(res, request, false, {
        status: 415,
        body: `415 unsupported media type, supported: [application/json, application/x-protobuf]`,
      });
      return;
    }
    try {
      const body = gzip ? gunzipSync(raw) : raw;
      request.resourceLogs.push(
        ...(json
          ? decodeOtlpJson(body.toString('utf8'))
          : decodeOtlpProtobuf(body)),
      );
    } catch (error) {
      request.decodeError = (error as Error).message;
      answer(res, request, json, { status: 400, message: request.decodeError });
      return;
    }
    const scripted = script.shift() ?? handler?.(request) ?? { status: 200 };
    if (scripted.status >= 200 && scripted.status < 300)
      for (const rl of request.resourceLogs) stored.push(...rl.records);
    answer(res, request, json, scripted);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500);
        res.end(String(error));
      }
    });
  };
  const server =
    options.tls === undefined
      ? createServer(listener)
      : createHttpsServer(options.tls, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const url = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  return {
    url,
    logsUrl: `${url}${path}`,
    requests,
    records: () => [...stored],
    respondWith: (...responses) => {
      script.push(...responses);
    },
    setHandler: (h) => {
      handler = h;
    },
    reset() {
      requests.length = 0;
      stored = [];
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
