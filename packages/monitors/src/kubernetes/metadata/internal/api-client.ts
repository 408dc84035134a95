import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '@lc/core';

/** A failed API request: the HTTP status (undefined: no answer) and the `Status` message. */
export class ApiError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** What {@link ApiClient} needs. */
export interface ApiClientOptions {
  readonly apiServer: URL;
  /** Re-read at most every `tokenRefreshMs`, and at once after a 401 (tokens rotate). */
  readonly tokenFile: string | undefined;
  /** Read for each connection (it may rotate too); HTTPS only. */
  readonly caFile: string | undefined;
  /** Longest wait for a list answer, and longest silence on a watch beyond its timeout. */
  readonly requestTimeoutMs: number;
  /** Longest watch line (one pod object), bytes. */
  readonly maxEventBytes: number;
  readonly clock: Clock;
}

/** How often the token file is read again (client-go reads it every minute). */
const TOKEN_REFRESH_MS = 60_000;
const USER_AGENT = 'lc-agent (kubernetes metadata)';

/**
 * A small GET-only client for the Kubernetes API over `node:http(s)`:
 * JSON answers, and watch streams read line by line. Bearer token from a
 * file, re-read as it rotates; the cluster CA from a file.
 */
export class ApiClient {
  private readonly o: ApiClientOptions;
  private token: { value: string; readAtMs: number } | undefined;

  constructor(options: ApiClientOptions) {
    this.o = options;
  }

  /** GET `path?query` and parse its JSON body; an `ApiError` on anything but 2xx. */
  async getJson(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
  ): Promise<unknown> {
    const res = await this.open(path, query, signal, this.o.requestTimeoutMs);
    const body = await readBody(res, this.o.maxEventBytes * 64);
    try {
      return JSON.parse(body) as unknown;
    } catch (error) {
      throw new ApiError(
        `GET ${path}: the answer is not JSON (${body.slice(0, 80)})`,
        res.statusCode,
        { cause: error },
      );
    }
  }

  /**
   * GET a watch stream (`onOpen` once it is answered with a 2xx) and
   * hand each JSON line to `onLine` until the
   * server ends it (resolves) or it fails (rejects). Silence longer than
   * `idleMs` counts as a failure (a connection lost without a FIN).
   */
  async watch(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
    idleMs: number,
    onLine: (line: string) => void,
    onOpen: () => void,
  ): Promise<void> {
    const res = await this.open(path, query, signal, idleMs);
    onOpen();
    await new Promise<void>((resolve, reject) => {
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        let text = carry + chunk;
        let nl = text.indexOf('\n');
        while (nl >= 0) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          if (line.trim() !== '') {
            try {
              onLine(line);
            } catch (error) {
              // The handler's error as it is (a 410 means: list again).
              reject(error as Error);
              res.destroy();
              return;
            }
          }
          nl = text.indexOf('\n');
        }
        if (text.length > this.o.maxEventBytes) {
          reject(
            new ApiError(
              `watch ${path}: an event longer than ${this.o.maxEventBytes} bytes`,
            ),
          );
          res.destroy();
          return;
        }
        carry = text;
      });
      res.on('end', () => resolve());
      res.on('error', (error) => reject(toApiError(error, path)));
      res.on('aborted', () =>
        reject(new ApiError(`watch ${path}: the connection was cut`)),
      );
    });
  }

  private async bearer(force: boolean): Promise<string | undefined> {
    const file = this.o.tokenFile;
    if (file === undefined) return undefined;
    const now = this.o.clock.monotonicNow();
    if (
      !force &&
      this.token !== undefined &&
      now - this.token.readAtMs < TOKEN_REFRESH_MS
    )
      return this.token.value;
    let value: string;
    try {
      value = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new ApiError(
        `cannot read the service account token ${file}: ${(error as Error).message}`,
        undefined,
        { cause: error },
      );
    }
    this.token = { value, readAtMs: now };
    return value;
  }

  /** Open a GET; a 401 with a cached token is tried once more with the file read again. */
  private async open(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<IncomingMessage> {
    const cached = this.token !== undefined;
    let res = await this.send(path, query, signal, timeoutMs, false);
    if (res.statusCode === 401 && cached && this.o.tokenFile !== undefined) {
      res.resume();
      res = await this.send(path, query, signal, timeoutMs, true);
    }
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const body = await readBody(res, 64 * 1024).catch(() => '');
    throw new ApiError(
      `GET ${path}: HTTP ${status}${statusMessage(body)}`,
      status,
    );
  }

  private async send(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
    timeoutMs: number,
    forceToken: boolean,
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.o.apiServer);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const token = await this.bearer(forceToken);
    const https = url.protocol === 'https:';
    let ca: string | undefined;
    if (https && this.o.caFile !== undefined) {
      try {
        ca = await readFile(this.o.caFile, 'utf8');
      } catch (error) {
        throw new ApiError(
          `cannot read the cluster CA ${this.o.caFile}: ${(error as Error).message}`,
          undefined,
          { cause: error },
        );
      }
    }
    const options: RequestOptions & { ca?: string } = {
      method: 'GET',
      headers: {
        accept: 'application/json',
        'user-agent': USER_AGENT,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      signal,
      ...(ca === undefined ? {} : { ca }),
    };
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, options, resolve);
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new ApiError(`GET ${url.pathname}: no answer within ${timeoutMs} ms`),
        ),
      );
      req.on('error', (error) => reject(toApiError(error, url.pathname)));
      req.end();
    });
  }
}

function toApiError(error: unknown, path: string): Error {
  if (error instanceof ApiError) return error;
  const e = error as NodeJS.ErrnoException;
  if (e.name === 'AbortError') return e;
  return new ApiError(`GET ${path}: ${e.code ?? e.message}`, undefined, {
    cause: error,
  });
}

/** ` (<reason>: <message>)` of a `Status` body, if it is one. */
function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { reason?: unknown; message?: unknown };
    if (typeof s.message === 'string')
      return ` (${typeof s.reason === 'string' ? `${s.reason}: ` : ''}${s.message})`;
  } catch {
    // not a Status
  }
  return '';
}

async function readBody(
  res: IncomingMessage,
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      res.destroy();
      throw new ApiError(`an answer longer than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
