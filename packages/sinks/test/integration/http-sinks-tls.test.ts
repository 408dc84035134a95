// TLS of the Loki, OTLP and HTTP sinks against real HTTPS servers started
// in the test, with a CA and certificates generated here by the openssl
// CLI. The Loki side is @lc/sinks/testing's Loki-wire endpoint (real
// protobuf + snappy decoding, Loki's answers) served over HTTPS; the OTLP
// side is @lc/test-utils' OTLP/HTTP endpoint (requests decoded with the
// official OpenTelemetry protos; no collector can be installed here); the
// HTTP sink posts NDJSON to a plain node HTTPS server.
import { createServer } from 'node:https';
import type { Server, ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { freezeLabels } from '@lc/core';
import type { LogRecord, Logger, Sink } from '@lc/core';
import {
  createOtlpTestServer,
  createTempDir,
  createTestPki,
} from '@lc/test-utils';
import type { TempDir, TestPki } from '@lc/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkSinkTls } from '../../src/check-sink-tls.js';
import type { SinkTlsOptions } from '../../src/check-sink-tls.js';
import { createHttpSink } from '../../src/http-sink.js';
import { createLokiSink } from '../../src/loki-sink.js';
import { createOtlpSink } from '../../src/otlp-sink.js';
import { createLokiTestServer } from '../../src/testing/loki-test-server.js';

const signal = new AbortController().signal;

function rec(i: number): LogRecord {
  return {
    line: `tls line ${i}`,
    labels: freezeLabels({ job: 'tls' }),
    timestampMs: Date.now(),
    timestampNanos: i,
    source: { kind: 'file', id: 'tls' },
    cursor: { offset: i },
  };
}

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => undefined;
  const logger = {
    trace: noop,
    debug: noop,
    info: noop,
    warn: (a: unknown, b?: unknown) => {
      warnings.push(typeof a === 'string' ? a : String(b));
    },
    error: noop,
    fatal: noop,
    child: () => logger,
  } as unknown as Logger;
  return { logger, warnings };
}

/** One HTTPS endpoint for either sink, counting what it stored. */
interface Endpoint {
  readonly url: string;
  /** Lines stored so far. */
  lines(): string[];
  /** Client certificate CNs and SNI names of the requests. */
  readonly peers: { cn?: string; sni?: string }[];
  close(): Promise<void>;
}

type Kind = 'loki' | 'otlp' | 'http';

async function ndjsonServer(tls: ServerOptions): Promise<Endpoint> {
  const lines: string[] = [];
  const peers: { cn?: string; sni?: string }[] = [];
  const server: Server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const cn = socket.getPeerCertificate()?.subject?.CN;
      peers.push({
        ...(typeof cn === 'string' ? { cn } : {}),
        ...(typeof socket.servername === 'string'
          ? { sni: socket.servername }
          : {}),
      });
      for (const l of Buffer.concat(chunks).toString('utf8').split('\n'))
        if (l !== '') lines.push((JSON.parse(l) as { line: string }).line);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    lines: () => [...lines],
    peers,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function endpoint(kind: Kind, tls: ServerOptions): Promise<Endpoint> {
  if (kind === 'http') return ndjsonServer(tls);
  if (kind === 'otlp') {
    const otlp = await createOtlpTestServer({ tls });
    return {
      url: otlp.logsUrl,
      lines: () => otlp.records().map((r) => r.body ?? ''),
      get peers() {
        return otlp.requests.map((r) => ({
          ...(r.clientCertificateCN === undefined
            ? {}
            : { cn: r.clientCertificateCN }),
          ...(r.tlsServerName === undefined ? {} : { sni: r.tlsServerName }),
        }));
      },
      close: () => otlp.close(),
    };
  }
  const loki = await createLokiTestServer({ tls });
  return {
    url: loki.url,
    lines: () => loki.entries().map((e) => e.line),
    get peers() {
      return loki.requests.map((r) => ({
        ...(r.clientCertificateCN === undefined
          ? {}
          : { cn: r.clientCertificateCN }),
        ...(r.tlsServerName === undefined ? {} : { sni: r.tlsServerName }),
      }));
    },
    close: () => loki.close(),
  };
}

function sinkFor(
  kind: Kind,
  url: string,
  tls: SinkTlsOptions,
  logger?: Logger,
): Sink {
  const common = {
    name: `${kind}-tls`,
    url,
    tls,
    ...(logger === undefined ? {} : { logger }),
  };
  if (kind === 'otlp') {
    const { url: logsEndpoint, ...rest } = common;
    return createOtlpSink({ ...rest, logsEndpoint });
  }
  return kind === 'loki' ? createLokiSink(common) : createHttpSink(common);
}

const FACTORIES = {
  loki: 'createLokiSink',
  otlp: 'createOtlpSink',
  http: 'createHttpSink',
} as const;

describe.each(['loki', 'otlp', 'http'] as const)('%s sink over TLS', (kind) => {
  const factory = FACTORIES[kind];
  let tmp: TempDir;
  let pki: TestPki;
  const open: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    tmp = await createTempDir('lc-sink-tls-');
    pki = await createTestPki(tmp.path);
  });
  afterAll(async () => {
    await tmp.cleanup();
  });
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  const start = async (tls: ServerOptions): Promise<Endpoint> => {
    const e = await endpoint(kind, tls);
    open.push(e);
    return e;
  };
  const build = (url: string, tls: SinkTlsOptions, logger?: Logger): Sink => {
    const sink = sinkFor(kind, url, tls, logger);
    open.push({ close: () => sink.shutdown() });
    return sink;
  };
  const server = () => ({ key: pki.server.key, cert: pki.server.cert });
  const mutual = () => ({
    ...server(),
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: true,
  });

  async function expectTlsFailure(
    sink: Sink,
    reason: string | RegExp,
  ): Promise<void> {
    const result = await sink.write([rec(1), rec(2)], { signal });
    expect(result.status).toBe('failure');
    if (result.status !== 'failure') return;
    expect(result.error.code).toBe('LC_ERR_SINK_TLS');
    expect(result.error.message).toContain(`sink "${kind}-tls"`);
    expect(result.error.message).toMatch(reason);
  }

  describe('write', () => {
    it('should deliver with mutual TLS: the server verifies the client certificate', async () => {
      const e = await start(mutual());
      const sink = build(e.url, {
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
      });
      expect(await sink.write([rec(1), rec(2)], { signal })).toEqual({
        status: 'success',
      });
      expect(e.lines().sort()).toEqual(['tls line 1', 'tls line 2']);
      expect(e.peers.map((p) => p.cn)).toContain('lc-client');
    });

    it('should decrypt an encrypted client key with keyPassword', async () => {
      const e = await start(mutual());
      const { readFile } = await import('node:fs/promises');
      const sink = build(e.url, {
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: await readFile(pki.encryptedClientKeyPath),
        keyPassword: pki.keyPassword,
      });
      expect(await sink.write([rec(3)], { signal })).toEqual({
        status: 'success',
      });
      expect(e.lines()).toEqual(['tls line 3']);
    });

    it('should fail permanently when the server requires a client certificate and none is set', async () => {
      const e = await start(mutual());
      await expectTlsFailure(
        build(e.url, { ca: pki.ca.cert }),
        /requires a client certificate/,
      );
      expect(e.lines()).toEqual([]);
    });

    it('should fail permanently, naming the sink and the reason, and warn when the server certificate is from another CA', async () => {
      const e = await start(server());
      const { logger, warnings } = capture();
      await expectTlsFailure(
        build(e.url, { ca: pki.otherCa.cert }, logger),
        /not signed by a trusted CA.*UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
      );
      expect(e.lines()).toEqual([]);
      expect(warnings.join('\n')).toContain('dead-letter queue');
    });

    it('should fail permanently against an expired server certificate', async () => {
      const e = await start({
        key: pki.expiredServer.key,
        cert: pki.expiredServer.cert,
      });
      await expectTlsFailure(
        build(e.url, { ca: pki.ca.cert }),
        /expired.*CERT_HAS_EXPIRED/,
      );
    });

    it('should send serverName as SNI and verify the certificate against it', async () => {
      const e = await start({
        key: pki.sniServer.key,
        cert: pki.sniServer.cert,
      });
      await expectTlsFailure(
        build(e.url, { ca: pki.ca.cert }),
        /does not name this host/,
      );
      const sink = build(e.url, {
        ca: pki.ca.cert,
        serverName: 'logs.internal',
      });
      expect(await sink.write([rec(4)], { signal })).toEqual({
        status: 'success',
      });
      expect(e.lines()).toEqual(['tls line 4']);
      expect(e.peers.map((p) => p.sni)).toContain('logs.internal');
    });

    it('should accept any server certificate with insecureSkipVerify, and warn at construction', async () => {
      const e = await start({
        key: pki.expiredServer.key,
        cert: pki.expiredServer.cert,
      });
      const { logger, warnings } = capture();
      const sink = build(
        e.url,
        { ca: pki.otherCa.cert, insecureSkipVerify: true },
        logger,
      );
      expect(warnings.join('\n')).toMatch(/verification is OFF/);
      expect(await sink.write([rec(5)], { signal })).toEqual({
        status: 'success',
      });
      expect(e.lines()).toEqual(['tls line 5']);
    });

    it('should refuse a server below minVersion', async () => {
      const e = await start({ ...server(), maxVersion: 'TLSv1.2' });
      await expectTlsFailure(
        build(e.url, { ca: pki.ca.cert, minVersion: 'TLSv1.3' }),
        /no TLS version in common/,
      );
      const sink = build(e.url, { ca: pki.ca.cert, minVersion: 'TLSv1.2' });
      expect(await sink.write([rec(6)], { signal })).toEqual({
        status: 'success',
      });
    });
  });

  describe('options', () => {
    it('should refuse tls with an http:// url, and bad PEM naming the option', () => {
      const invalid = (fn: () => unknown, text: string) =>
        expect(fn).toThrow(
          expect.objectContaining({
            code: 'LC_ERR_INVALID_OPTION',
            message: expect.stringContaining(text),
          }),
        );
      invalid(
        () => sinkFor(kind, 'http://127.0.0.1:1', { ca: pki.ca.cert }),
        `${factory}: tls needs an https:// url`,
      );
      invalid(
        () => sinkFor(kind, 'https://127.0.0.1:1', { ca: 'not a pem' }),
        `${factory}: tls.ca holds no PEM certificate`,
      );
      invalid(
        () =>
          sinkFor(kind, 'https://127.0.0.1:1', {
            cert: pki.client.cert,
            key: pki.client2.key,
          }),
        'tls.key does not belong to the certificate',
      );
    });
  });
});

describe('checkSinkTls', () => {
  let tmp: TempDir;
  let pki: TestPki;
  beforeAll(async () => {
    tmp = await createTempDir('lc-check-tls-');
    pki = await createTestPki(tmp.path);
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  const options = (problems: { option: string }[]) =>
    problems.map((p) => p.option);

  it('should accept a CA, a matching certificate and key, and an encrypted key with its password', async () => {
    const { readFile } = await import('node:fs/promises');
    expect(
      checkSinkTls({
        ca: `${pki.ca.cert}\n${pki.otherCa.cert}`,
        cert: pki.client.cert,
        key: pki.client.key,
        serverName: 'logs.internal',
        minVersion: 'TLSv1.3',
      }),
    ).toEqual([]);
    expect(
      checkSinkTls({
        cert: pki.client.cert,
        key: await readFile(pki.encryptedClientKeyPath),
        keyPassword: pki.keyPassword,
      }),
    ).toEqual([]);
  });

  it('should report every problem with the option at fault and without secrets', async () => {
    const { readFile } = await import('node:fs/promises');
    const encrypted = await readFile(pki.encryptedClientKeyPath, 'utf8');
    expect(options(checkSinkTls({ ca: pki.client.key }))).toEqual(['ca']);
    expect(options(checkSinkTls({ cert: pki.client.cert }))).toEqual(['key']);
    expect(options(checkSinkTls({ key: pki.client.key }))).toEqual(['cert']);
    expect(checkSinkTls({ cert: pki.client.cert, key: encrypted })).toEqual([
      { option: 'key', message: 'is encrypted: set keyPassword' },
    ]);
    const wrong = checkSinkTls({
      cert: pki.client.cert,
      key: encrypted,
      keyPassword: 'nope',
    });
    expect(options(wrong)).toEqual(['keyPassword']);
    expect(JSON.stringify(wrong)).not.toContain('nope');
    const mismatch = checkSinkTls({
      cert: pki.client.cert,
      key: pki.client2.key,
    });
    expect(mismatch).toEqual([
      {
        option: 'key',
        message: expect.stringContaining(
          'does not belong to the certificate (CN=lc-client)',
        ),
      },
    ]);
    expect(JSON.stringify(mismatch)).not.toContain('PRIVATE KEY');
    expect(
      options(
        checkSinkTls({
          minVersion: 'TLSv1.1' as never,
          serverName: '',
          caFile: '/x',
        } as never),
      ),
    ).toEqual(['caFile', 'serverName', 'minVersion']);
  });
});
