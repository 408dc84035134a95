import { createConnection, createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TlsOptions, TLSSocket } from 'node:tls';
import { createSaslServer } from './internal/sasl-server.js';
import type { SaslServer } from './internal/sasl-server.js';

/**
 * A SASL / TLS front for a Kafka broker that has neither (the librdkafka
 * mock cluster ignores `security.protocol`, and no SASL-capable Kafka can
 * be installed here). It speaks the broker side of the real protocol:
 * terminates TLS (optionally requiring a client certificate), answers
 * SaslHandshake and SaslAuthenticate itself (PLAIN, and SCRAM-SHA-256/512
 * per RFC 5802/7677 with the client proof verified and a server signature
 * the client verifies), and only then forwards Kafka frames to the broker.
 * Metadata responses are rewritten so the advertised broker is this proxy
 * (clients reconnect to what Metadata names), and ApiVersions answers add
 * the two SASL APIs. Only kafkajs's non-flexible request versions are
 * handled; one upstream broker.
 */
export interface KafkaSecureProxy {
  /** `127.0.0.1:PORT` to give the client as its bootstrap broker. */
  readonly address: string;
  /** Every authentication attempt, in order. */
  readonly authentications: ReadonlyArray<{
    mechanism: string;
    username: string;
    ok: boolean;
  }>;
  /** Subject CNs of client certificates presented (TLS with `requestCert`). */
  readonly clientCertificates: readonly string[];
  /** Connections closed before authenticating (bad TLS, refused SASL...). */
  readonly rejectedConnections: number;
  close(): Promise<void>;
}

/** Options of {@link startKafkaSecureProxy}. */
export interface KafkaSecureProxyOptions {
  /** The real broker behind the proxy, `host:port`. */
  upstream: string;
  /** TLS server options; plain TCP (SASL_PLAINTEXT) when absent. */
  tls?: TlsOptions;
  /** Accepted users and passwords; no SASL (TLS only) when absent. */
  users?: Readonly<Record<string, string>>;
  /** @default ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] */
  mechanisms?: readonly string[];
}

const API_METADATA = 3;
const API_VERSIONS = 18;
const API_SASL_HANDSHAKE = 17;
const API_SASL_AUTHENTICATE = 36;
const ERR_UNSUPPORTED_SASL_MECHANISM = 33;
const ERR_ILLEGAL_SASL_STATE = 34;
const ERR_SASL_AUTHENTICATION_FAILED = 58;

/** Split a stream into size-prefixed Kafka frames. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) return;
      onFrame(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

const frame = (...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
};
const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const str = (s: string | null): Buffer =>
  s === null
    ? int16(-1)
    : Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
const bytes = (b: Buffer): Buffer => Buffer.concat([int32(b.length), b]);

interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Offset of the request body in the frame. */
  bodyAt: number;
}

function readHeader(f: Buffer): RequestHeader {
  const clientIdLength = f.readInt16BE(8);
  return {
    apiKey: f.readInt16BE(0),
    apiVersion: f.readInt16BE(2),
    correlationId: f.readInt32BE(4),
    bodyAt: 10 + Math.max(0, clientIdLength),
  };
}

/** Add the SASL APIs to an ApiVersions v0-2 response body. */
function withSaslApis(response: Buffer): Buffer {
  // correlation id, error code, then [api_key min max], then throttle (v1+).
  const count = response.readInt32BE(6);
  const listEnd = 10 + count * 6;
  const keys = new Set<number>();
  for (let i = 0; i < count; i++) keys.add(response.readInt16BE(10 + i * 6));
  const extra = [API_SASL_HANDSHAKE, API_SASL_AUTHENTICATE]
    .filter((k) => !keys.has(k))
    .map((k) => Buffer.concat([int16(k), int16(0), int16(1)]));
  return Buffer.concat([
    response.subarray(0, 6),
    int32(count + extra.length),
    response.subarray(10, listEnd),
    ...extra,
    response.subarray(listEnd),
  ]);
}

/** Point every broker of a Metadata v0-8 response at the proxy. */
function advertise(response: Buffer, version: number, port: number): Buffer {
  let at = 4 + (version >= 3 ? 4 : 0);
  const head = response.subarray(0, at);
  const count = response.readInt32BE(at);
  at += 4;
  const brokers: Buffer[] = [];
  const ports = new Set<number>();
  for (let i = 0; i < count; i++) {
    const nodeId = response.readInt32BE(at);
    const hostLength = response.readInt16BE(at + 4);
    at += 6 + hostLength;
    ports.add(response.readInt32BE(at));
    at += 4;
    let rack: Buffer = Buffer.alloc(0);
    if (version >= 1) {
      const rackLength = response.readInt16BE(at);
      rack = response.subarray(at, at + 2 + Math.max(0, rackLength));
      at += rack.length;
    }
    brokers.push(int32(nodeId), str('127.0.0.1'), int32(port), rack);
  }
  if (ports.size > 1)
    throw new Error(
      'kafka secure proxy: only one upstream broker is supported',
    );
  return Buffer.concat([head, int32(count), ...brokers, response.subarray(at)]);
}

/** Start the proxy on 127.0.0.1 (random port). */
export async function startKafkaSecureProxy(
  options: KafkaSecureProxyOptions,
): Promise<KafkaSecureProxy> {
  const [upHost = '127.0.0.1', upPort = '0'] = options.upstream.split(':');
  const mechanisms = options.mechanisms ?? [
    'PLAIN',
    'SCRAM-SHA-256',
    'SCRAM-SHA-512',
  ];
  const users = options.users;
  const authentications: {
    mechanism: string;
    username: string;
    ok: boolean;
  }[] = [];
  const clientCertificates: string[] = [];
  const sockets = new Set<Socket>();
  let rejected = 0;
  let port = 0;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const serve = (client: Socket): void => {
    track(client);
    const cn = (client as Partial<TLSSocket>).getPeerCertificate?.()?.subject
      ?.CN;
    if (typeof cn === 'string') clientCertificates.push(cn);
    const upstream = createConnection({ host: upHost, port: Number(upPort) });
    track(upstream);
    let authenticated = users === undefined;
    let mechanism: string | undefined;
    let sasl: SaslServer | undefined;
    const inflight = new Map<number, RequestHeader>();
    const fail = (): void => {
      if (!authenticated) rejected++;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());

    const reply = (h: RequestHeader, ...body: Buffer[]): void => {
      client.write(frame(int32(h.correlationId), ...body));
    };
    const authReply = (
      h: RequestHeader,
      error: number,
      message: string | null,
      data: Buffer,
    ): void => {
      reply(
        h,
        int16(error),
        str(message),
        bytes(data),
        ...(h.apiVersion >= 1 ? [Buffer.alloc(8)] : []),
      );
      if (error !== 0) setImmediate(fail);
    };

    const authenticate = (h: RequestHeader, token: Buffer): void => {
      sasl ??= createSaslServer(mechanism ?? '', users ?? {});
      const step = sasl.step(token);
      if (step.kind === 'continue') {
        authReply(h, 0, null, step.reply);
        return;
      }
      authentications.push({
        mechanism: mechanism ?? '',
        username: step.username,
        ok: step.kind === 'ok',
      });
      if (step.kind === 'ok') {
        authenticated = true;
        authReply(h, 0, null, step.reply);
        return;
      }
      authReply(
        h,
        ERR_SASL_AUTHENTICATION_FAILED,
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism ?? ''}`,
        Buffer.alloc(0),
      );
    };

    client.on(
      'data',
      framer((f) => {
        const h = readHeader(f);
        if (authenticated || h.apiKey === API_VERSIONS) {
          if (h.apiKey === API_VERSIONS || h.apiKey === API_METADATA)
            inflight.set(h.correlationId, h);
          upstream.write(frame(f));
          return;
        }
        if (h.apiKey === API_SASL_HANDSHAKE) {
          const requested = f.toString(
            'utf8',
            h.bodyAt + 2,
            h.bodyAt + 2 + f.readInt16BE(h.bodyAt),
          );
          const known = mechanisms.includes(requested);
          mechanism = known ? requested : undefined;
          reply(
            h,
            int16(known ? 0 : ERR_UNSUPPORTED_SASL_MECHANISM),
            int32(mechanisms.length),
            ...mechanisms.map((m) => str(m)),
          );
          return;
        }
        if (h.apiKey === API_SASL_AUTHENTICATE && mechanism !== undefined) {
          const length = f.readInt32BE(h.bodyAt);
          authenticate(h, f.subarray(h.bodyAt + 4, h.bodyAt + 4 + length));
          return;
        }
        // A broker closes connections that skip authentication.
        reply(h, int16(ERR_ILLEGAL_SASL_STATE));
        setImmediate(fail);
      }),
    );
    upstream.on(
      'data',
      framer((f) => {
        const correlationId = f.readInt32BE(0);
        const h = inflight.get(correlationId);
        inflight.delete(correlationId);
        let out: Buffer = f;
        // ApiVersions v3+ (librdkafka asks for it first) is answered by the
        // mock with UNSUPPORTED_VERSION in another layout: passed through,
        // the client falls back to v0-2, which gets the SASL APIs added.
        if (
          h?.apiKey === API_VERSIONS &&
          users !== undefined &&
          h.apiVersion <= 2 &&
          f.readInt16BE(4) === 0
        )
          out = withSaslApis(f);
        else if (h?.apiKey === API_METADATA)
          out = advertise(f, h.apiVersion, port);
        client.write(frame(out));
      }),
    );
  };

  const server: Server =
    options.tls === undefined
      ? createTcpServer(serve)
      : createTlsServer(options.tls, serve);
  if (options.tls !== undefined) server.on('tlsClientError', () => rejected++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    authentications,
    clientCertificates,
    get rejectedConnections() {
      return rejected;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
