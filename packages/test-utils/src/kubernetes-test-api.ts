// An endpoint speaking the Kubernetes API's list/watch wire format for
// pods, for tests (no API server can run on these machines), as
// kube-apiserver answers: PodList pages (`resourceVersion`, `continue`),
// chunked watch events (ADDED, MODIFIED, DELETED, BOOKMARK with
// `allowWatchBookmarks=true`, ERROR 410 for a compacted version), Status
// bodies (401 without the token, 410), the `spec.nodeName` selector.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type {
  KubernetesTestApiOptions,
  KubernetesTestRequest,
  TestPod,
} from './internal/kubernetes-wire.js';
import {
  podObject,
  REASONS,
  selectedNode,
  statusObject,
} from './internal/kubernetes-wire.js';

export type {
  KubernetesTestApiOptions,
  KubernetesTestRequest,
  TestPod,
} from './internal/kubernetes-wire.js';

/** The running endpoint and the controls a test has over it. */
export interface KubernetesTestApi {
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request answered so far, in order. */
  readonly requests: KubernetesTestRequest[];
  /** The current resource version (the last event's). */
  readonly resourceVersion: number;
  /** Watch streams open now. */
  readonly openWatches: number;
  /** Create or replace a pod (ADDED or MODIFIED to watchers). */
  apply(pod: TestPod): void;
  /** Delete a pod (DELETED to watchers). */
  remove(uid: string): void;
  /** Send a BOOKMARK at the current resource version to watchers that asked for them. */
  bookmark(): void;
  /** Resource versions up to now are compacted: watches from them get an ERROR 410. */
  compact(): void;
  /** Send an `ERROR` event with a `Status` 410 on open watches and end them. */
  expireWatches(): void;
  /** End open watch streams cleanly (as a server-side timeout does). */
  endWatches(): void;
  /** Answer the next `n` requests with this HTTP status and a `Status` body. */
  failNext(status: number, n?: number): void;
  /** Expired continue tokens: the next continued list page gets a 410. */
  expireContinueTokens(): void;
  /** Accept these tokens from now on (a rotation). */
  setTokens(tokens: readonly string[]): void;
  /** Hang up every connection and refuse to answer until `up()`. */
  down(): void;
  up(): void;
  /** Resolves once a request matching `pred` has been answered. */
  waitForRequest(
    pred: (r: KubernetesTestRequest) => boolean,
  ): Promise<KubernetesTestRequest>;
  close(): Promise<void>;
}

interface StoredPod {
  readonly pod: TestPod;
  readonly rv: number;
}

interface Event {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly rv: number;
  readonly pod: TestPod;
}

interface Watcher {
  readonly res: ServerResponse;
  readonly node: string | undefined;
  readonly bookmarks: boolean;
}

/** Start a Kubernetes API endpoint for pods on 127.0.0.1 (a random port). */
export async function startKubernetesTestApi(
  options: KubernetesTestApiOptions = {},
): Promise<KubernetesTestApi> {
  const pods = new Map<string, StoredPod>();
  const events: Event[] = [];
  const watchers = new Set<Watcher>();
  const sockets = new Set<Socket>();
  const requests: KubernetesTestRequest[] = [];
  const snapshots = new Map<string, { items: StoredPod[]; rv: number }>();
  const waiters: Array<{
    pred: (r: KubernetesTestRequest) => boolean;
    resolve: (r: KubernetesTestRequest) => void;
  }> = [];
  let tokens = new Set(options.tokens ?? ['test-token']);
  let rv = 100;
  let compactedRv = 0;
  let failures: number[] = [];
  let isDown = false;
  let expireContinue = false;
  let nextSnapshot = 0;

  const record = (r: KubernetesTestRequest): void => {
    requests.push(r);
    for (const w of [...waiters]) {
      if (!w.pred(r)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(r);
    }
  };

  const sendStatus = (
    res: ServerResponse,
    code: number,
    message: string,
  ): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(statusObject(code, REASONS[code] ?? 'Unknown', message)),
    );
  };

  const writeEvent = (w: Watcher, type: string, object: unknown): void => {
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  };

  const publish = (e: Event): void => {
    events.push(e);
    for (const w of watchers)
      if (w.node === undefined || w.node === e.pod.nodeName)
        writeEvent(w, e.type, podObject(e.pod, e.rv));
  };

  const list = (
    res: ServerResponse,
    node: string | undefined,
    query: Record<string, string>,
  ): number => {
    const limit = Number(query['limit'] ?? '0');
    let snap: { items: StoredPod[]; rv: number };
    let from = 0;
    const token = query['continue'];
    if (token !== undefined && token !== '') {
      const [id, offset] = token.split(':');
      const found = snapshots.get(id ?? '');
      if (found === undefined || expireContinue) {
        expireContinue = false;
        sendStatus(
          res,
          410,
          'The provided continue parameter is too old to display a consistent list result.',
        );
        return 410;
      }
      snap = found;
      from = Number(offset);
    } else {
      snap = {
        items: [...pods.values()].filter(
          (p) => node === undefined || p.pod.nodeName === node,
        ),
        rv,
      };
    }
    const to =
      limit > 0 ? Math.min(snap.items.length, from + limit) : snap.items.length;
    let cont: string | undefined;
    if (to < snap.items.length) {
      const id = token?.split(':')[0] ?? String(nextSnapshot++);
      snapshots.set(id, snap);
      cont = `${id}:${to}`;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: {
          resourceVersion: String(snap.rv),
          ...(cont === undefined ? {} : { continue: cont }),
        },
        items: snap.items.slice(from, to).map((p) => podObject(p.pod, p.rv)),
      }),
    );
    return 200;
  };

  const watch = (
    res: ServerResponse,
    node: string | undefined,
    query: Record<string, string>,
  ): void => {
    const from = Number(query['resourceVersion'] ?? '0');
    res.writeHead(200, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
    });
    const w: Watcher = {
      res,
      node,
      bookmarks: query['allowWatchBookmarks'] === 'true',
    };
    if (from < compactedRv) {
      // What kube-apiserver does for a version compacted away: 200, then
      // one ERROR event carrying a Status 410, then the end.
      writeEvent(
        w,
        'ERROR',
        statusObject(
          410,
          'Expired',
          `too old resource version: ${from} (${compactedRv})`,
        ),
      );
      res.end();
      return;
    }
    for (const e of events)
      if (e.rv > from && (node === undefined || e.pod.nodeName === node))
        writeEvent(w, e.type, podObject(e.pod, e.rv));
    res.flushHeaders();
    watchers.add(w);
    const forget = (): void => {
      watchers.delete(w);
    };
    res.on('close', forget);
    const seconds = Number(query['timeoutSeconds'] ?? '0');
    if (seconds > 0) {
      const t = setTimeout(() => {
        forget();
        res.end();
      }, seconds * 1000);
      t.unref();
      res.on('close', () => clearTimeout(t));
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const isWatch = query['watch'] === 'true' || query['watch'] === '1';
    const authorization = req.headers.authorization;
    const done = (status: number): void =>
      record({
        path: url.pathname,
        query,
        authorization,
        watch: isWatch,
        status,
      });
    if (isDown) {
      req.socket.destroy();
      return;
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      sendStatus(res, failure, `injected failure ${failure}`);
      done(failure);
      return;
    }
    const token = authorization?.startsWith('Bearer ')
      ? authorization.slice(7)
      : undefined;
    if (token === undefined || !tokens.has(token)) {
      sendStatus(res, 401, 'Unauthorized');
      done(401);
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/api/v1/pods') {
      sendStatus(
        res,
        404,
        `not served here: ${req.method ?? ''} ${url.pathname}`,
      );
      done(404);
      return;
    }
    const node = selectedNode(query['fieldSelector']);
    if (isWatch) {
      watch(res, node, query);
      done(200);
      return;
    }
    done(list(res, node, query));
  };

  const server: Server =
    options.tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer(
          { cert: options.tls.cert, key: options.tls.key },
          handler,
        );
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  server.on(
    options.tls === undefined ? 'connection' : 'secureConnection',
    track,
  );
  // TLS handshakes that fail never become secure connections.
  if (options.tls !== undefined) server.on('connection', track);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port =
    typeof address === 'object' && address !== null ? address.port : 0;
  const scheme = options.tls === undefined ? 'http' : 'https';

  const endAll = (): void => {
    for (const w of [...watchers]) {
      watchers.delete(w);
      w.res.end();
    }
  };

  return {
    url: `${scheme}://127.0.0.1:${port}`,
    requests,
    get resourceVersion() {
      return rv;
    },
    get openWatches() {
      return watchers.size;
    },
    apply(pod) {
      const type = pods.has(pod.uid) ? 'MODIFIED' : 'ADDED';
      rv++;
      pods.set(pod.uid, { pod, rv });
      publish({ type, rv, pod });
    },
    remove(uid) {
      const p = pods.get(uid);
      if (p === undefined) return;
      pods.delete(uid);
      rv++;
      publish({ type: 'DELETED', rv, pod: p.pod });
    },
    bookmark() {
      for (const w of watchers)
        if (w.bookmarks)
          writeEvent(w, 'BOOKMARK', {
            kind: 'Pod',
            apiVersion: 'v1',
            metadata: {
              resourceVersion: String(rv),
              annotations: { 'k8s.io/initial-events-end': 'false' },
            },
          });
    },
    compact() {
      compactedRv = rv;
      events.length = 0;
    },
    expireWatches() {
      for (const w of [...watchers]) {
        watchers.delete(w);
        writeEvent(
          w,
          'ERROR',
          statusObject(410, 'Expired', 'too old resource version'),
        );
        w.res.end();
      }
    },
    endWatches: endAll,
    failNext(status, n = 1) {
      failures = [...failures, ...Array.from({ length: n }, () => status)];
    },
    expireContinueTokens() {
      expireContinue = true;
    },
    setTokens(next) {
      tokens = new Set(next);
    },
    down() {
      isDown = true;
      endAll();
      for (const s of sockets) s.destroy();
    },
    up() {
      isDown = false;
    },
    waitForRequest(pred) {
      const found = requests.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    async close() {
      isDown = true;
      endAll();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
