import { X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { LcError } from '@lc/core';
import type { Logger } from '@lc/core';
import { checkSinkTls } from '../check-sink-tls.js';
import type { SinkTlsOptions } from '../check-sink-tls.js';

/** Sockets per host of an agent a sink owns. */
const MAX_SOCKETS = 16;

/**
 * Validate `tls` as `factory` (throws `LC_ERR_INVALID_OPTION` naming the
 * first bad option, e.g. `tls.key`) and turn it into node TLS connection
 * options. Logs a warning when verification is off or the client
 * certificate is outside its validity period: both would otherwise only
 * show up as failed deliveries.
 */
export function resolveTls(
  factory: string,
  sink: string,
  tls: SinkTlsOptions,
  logger: Logger,
  now: number = Date.now(),
): ConnectionOptions {
  const problems = checkSinkTls(tls);
  const first = problems[0];
  if (first !== undefined) {
    const option = first.option === '' ? 'tls' : `tls.${first.option}`;
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${factory}: ${option} ${first.message}${
        problems.length > 1
          ? ` (and ${problems.length - 1} more TLS problem(s): ${problems
              .slice(1)
              .map((p) => `tls.${p.option} ${p.message}`)
              .join('; ')})`
          : ''
      }`,
      details: { option, problems },
    });
  }
  if (tls.insecureSkipVerify === true) {
    logger.warn(
      { sink },
      `sink "${sink}": TLS certificate verification is OFF (insecureSkipVerify): the server is not authenticated and anyone on the path can read or alter the logs; use only for testing`,
    );
  }
  if (tls.cert !== undefined) {
    const leaf = new X509Certificate(
      typeof tls.cert === 'string' ? tls.cert : tls.cert.toString('utf8'),
    );
    const from = Date.parse(leaf.validFrom);
    const to = Date.parse(leaf.validTo);
    if (now < from || now > to) {
      logger.warn(
        { sink, validFrom: leaf.validFrom, validTo: leaf.validTo },
        `sink "${sink}": the client certificate (tls cert) is not valid now (valid ${leaf.validFrom} to ${leaf.validTo}); servers will refuse it`,
      );
    }
  }
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.keyPassword === undefined ? {} : { passphrase: tls.keyPassword }),
    ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
    rejectUnauthorized: tls.insecureSkipVerify !== true,
    minVersion: tls.minVersion ?? 'TLSv1.2',
  };
}

/** What {@link sinkHttpAgent} takes. */
export interface SinkHttpAgentOptions {
  readonly factory: string;
  readonly sink: string;
  readonly url: URL;
  readonly tls: SinkTlsOptions | undefined;
  /** A caller's own agent; then `tls` must be unset. */
  readonly agent: http.Agent | undefined;
  readonly logger: Logger;
}

/**
 * The agent an HTTP sink sends with: the caller's own, or a keep-alive one
 * the sink owns (`owned`, destroyed on shutdown) matching the URL's scheme,
 * with `tls` applied for `https:`. Throws `LC_ERR_INVALID_OPTION` for `tls`
 * with an `http:` URL or together with `agent`.
 */
export function sinkHttpAgent(options: SinkHttpAgentOptions): {
  agent: http.Agent;
  owned: http.Agent | undefined;
} {
  const { factory, url, tls } = options;
  if (tls !== undefined && url.protocol !== 'https:') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${factory}: tls needs an https:// url, got ${url.origin}`,
      details: { option: 'tls' },
    });
  }
  if (tls !== undefined && options.agent !== undefined) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${factory}: set either tls or agent (configure TLS on your own agent)`,
      details: { option: 'tls' },
    });
  }
  if (options.agent !== undefined) {
    // node throws ERR_INVALID_PROTOCOL per request for a mismatch.
    const protocol = (options.agent as { protocol?: string }).protocol;
    if (protocol !== undefined && protocol !== url.protocol) {
      throw new LcError({
        code: 'LC_ERR_INVALID_OPTION',
        message: `${factory}: agent is an ${protocol.replace(':', '')} agent but url is ${url.protocol}// (use an ${url.protocol === 'https:' ? 'https.Agent' : 'http.Agent'})`,
        details: { option: 'agent' },
      });
    }
    return { agent: options.agent, owned: undefined };
  }
  const owned =
    url.protocol === 'https:'
      ? new https.Agent({
          keepAlive: true,
          maxSockets: MAX_SOCKETS,
          ...(tls === undefined
            ? {}
            : resolveTls(factory, options.sink, tls, options.logger)),
        })
      : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  return { agent: owned, owned };
}

/** OpenSSL certificate verification failures: the server is not trusted. */
const VERIFY_HINTS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'the server certificate is not signed by a trusted CA (check the tls CA)',
  UNABLE_TO_GET_ISSUER_CERT:
    'the server certificate is not signed by a trusted CA (check the tls CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    'the server certificate is not signed by a trusted CA (check the tls CA)',
  SELF_SIGNED_CERT_IN_CHAIN:
    'the server certificate chain ends in a CA that is not trusted (check the tls CA)',
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'the server certificate is self-signed and not trusted (add it as the tls CA)',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID:
    'the server certificate is not valid yet (check both clocks)',
  CERT_REVOKED: 'the server certificate was revoked',
  CERT_UNTRUSTED: 'the server certificate is not trusted',
  CERT_REJECTED: 'the server certificate was rejected',
  CERT_SIGNATURE_FAILURE: 'the server certificate signature is invalid',
  INVALID_CA: 'a CA in the server chain is not a valid CA',
  INVALID_PURPOSE:
    'the server certificate may not be used for TLS server authentication',
  PATH_LENGTH_EXCEEDED: 'the server certificate chain is too long',
  CERT_CHAIN_TOO_LONG: 'the server certificate chain is too long',
  HOSTNAME_MISMATCH:
    'the server certificate does not name this host (set tls server name)',
  ERR_TLS_CERT_ALTNAME_INVALID:
    'the server certificate does not name this host (set the tls server name to a name it holds)',
  ERR_TLS_CERT_ALTNAME_FORMAT: 'the server certificate names are malformed',
};

/** Server alerts and handshake errors, matched in OpenSSL's reason text. */
const ALERT_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /certificate required/,
    'the server requires a client certificate (set tls cert and key)',
  ],
  [
    /alert (bad certificate|unknown ca|unsupported certificate|certificate unknown|access denied)/,
    'the server refused the client certificate',
  ],
  [
    /alert certificate (expired|revoked)/,
    'the server refused the client certificate as expired or revoked',
  ],
  [
    /protocol version|unsupported protocol|no protocols available|version too low/,
    'no TLS version in common with the server (check tls min version)',
  ],
  [
    /alert handshake failure|no shared cipher/,
    'the server refused the handshake',
  ],
  [
    /wrong version number|packet length too long|http request/,
    'the server did not answer TLS (a plain-text port?)',
  ],
];

/** Handshake errors that a new connection may well not see again. */
const TRANSIENT =
  /bad record mac|decryption failed|internal error|unexpected eof/i;

/**
 * The reason a transport error is a TLS failure that retrying cannot fix
 * (an untrusted, expired or misnamed server certificate, a refused client
 * certificate, no common version, plain text on a TLS port), or
 * `undefined` for anything else (refused, reset, timeouts: retryable).
 * Looks through `cause`/`originalError` chains (kafkajs wraps errors).
 */
export function permanentTlsFailure(error: unknown): string | undefined {
  let e = error as
    | {
        code?: unknown;
        message?: unknown;
        reason?: unknown;
        cause?: unknown;
        originalError?: unknown;
      }
    | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    const verify = VERIFY_HINTS[code];
    if (verify !== undefined) {
      const detail =
        typeof e.reason === 'string' && e.reason !== '' ? e.reason : message;
      return `${verify}: ${detail.trim()} (${code})`;
    }
    const openssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
    if (
      (code.startsWith('ERR_SSL_') || openssl !== null) &&
      !TRANSIENT.test(message)
    ) {
      const reason = (openssl?.[1] ?? code).trim();
      const hint = ALERT_HINTS.find(([re]) => re.test(reason.toLowerCase()));
      return `${hint?.[1] ?? 'the TLS handshake failed'}: ${reason}${code === '' ? '' : ` (${code})`}`;
    }
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

/** Least time between two permanent-failure warnings of one sink, ms. */
const WARN_EVERY_MS = 30_000;

/**
 * A warning for connection failures that are permanent (TLS, refused SASL
 * credentials), at most once per {@link WARN_EVERY_MS} (with the count of
 * those not logged): the dispatcher dead-letters such records without
 * retrying, so a wrong CA must show in the log, not only in the DLQ.
 */
export function permanentFailureWarner(
  logger: Logger,
  sink: string,
  now: () => number,
): (error: LcError) => void {
  let lastAtMs = -Infinity;
  let suppressed = 0;
  return (error) => {
    const at = now();
    if (at - lastAtMs < WARN_EVERY_MS) {
      suppressed++;
      return;
    }
    logger.warn(
      { sink, code: error.code, suppressed },
      `${error.message}; records go to the dead-letter queue until this is fixed (then replay them)`,
    );
    lastAtMs = at;
    suppressed = 0;
  };
}
