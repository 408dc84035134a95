// The API of the real, built lc-agent binary while its sink fails: /ready
// says not ready (and why) while Loki answers 503 or refuses connections
// and ready again once it recovers, /status shows each sink's backlog, a
// stop says in one line what it left and where, and the API stays up
// answering 503 "stopping" until the pipeline has stopped. Loki is an HTTP
// endpoint in the test speaking Loki's protobuf + snappy push format (no
// Loki server can run here); "refused" is a port nothing listens on, then a
// TCP forwarder to that endpoint; a hung Loki accepts and never answers.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { Readiness } from '../../src/runtime/readiness.js';
import { eventually, logLines, spawnBinary } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

let tmp: TempDir | undefined;
const agents: AgentProcess[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const a of agents.splice(0))
    if (a.child.exitCode === null && a.child.signalCode === null)
      a.child.kill('SIGKILL');
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await tmp?.cleanup();
  tmp = undefined;
});

const LINES = Array.from({ length: 50 }, (_, i) => `api line ${i}`);

/** A scenario directory with logs/app.log holding {@link LINES}. */
async function scenario(): Promise<string> {
  tmp = await createTempDir('lc-agent-api-');
  await mkdir(join(tmp.path, 'logs'), { recursive: true });
  await appendFile(join(tmp.path, 'logs', 'app.log'), `${LINES.join('\n')}\n`);
  return tmp.path;
}

/** Write the config for a Loki sink at `lokiUrl` and start the binary on it. */
async function start(
  dir: string,
  lokiUrl: string,
  extra = '',
): Promise<{ agent: AgentProcess; api: string }> {
  await writeFile(
    join(dir, 'agent.yaml'),
    `app: {data_dir: ${dir}/data}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
dispatcher: {batch_timeout: 100ms${extra}}
sinks: {loki: [{url: "${lokiUrl}"}]}
`,
  );
  const agent = spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);
  agents.push(agent);
  return { agent, api: await agent.apiAddress() };
}

async function ready(api: string): Promise<{ code: number; body: Readiness }> {
  const res = await fetch(`${api}/ready`);
  return { code: res.status, body: (await res.json()) as Readiness };
}

interface SinkStatus {
  name: string;
  state: string;
  circuit: string;
  unsettledBatches: number;
  unsettledRecords: number;
  oldestUnsettledAgeMs: number;
  delivered: number;
  lastError?: { code: string; message: string };
}

/** Log lines about what a stop left behind (the dispatcher's summary). */
const shutdownLines = (a: AgentProcess): Array<Record<string, unknown>> =>
  logLines(a).filter((l) =>
    /held on disk|shutdown timed out|records left unsettled/.test(
      String(l['msg']),
    ),
  );

/** A port nothing listens on (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Forward TCP connections on `port` to `target`'s port. */
async function forward(port: number, target: string): Promise<Server> {
  const to = Number(new URL(target).port);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = connect(to, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanups.push(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });
  return server;
}

/** A Loki that accepts connections and never answers; `pushes` counts requests begun. */
async function hungLoki(): Promise<{ url: string; pushes: () => number }> {
  const sockets = new Set<Socket>();
  let pushes = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => pushes++);
    socket.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pushes: () => pushes,
  };
}

async function lokiServer(): Promise<LokiTestServer> {
  const loki = await createLokiTestServer();
  cleanups.push(() => loki.close());
  return loki;
}

const delivered = (loki: LokiTestServer): string[] =>
  loki
    .entries()
    .map((e) => e.line)
    .sort();

describe('lc-agent run: API while a sink fails (real process)', () => {
  it('should answer /ready 503 naming Loki while it answers 503, show its backlog in /status, and be ready again once it recovers', async () => {
    const dir = await scenario();
    const loki = await lokiServer();
    let down = true;
    loki.setHandler(() =>
      down ? { status: 503, body: 'ingester not ready' } : undefined,
    );
    const { agent, api } = await start(dir, loki.url);
    let r = await ready(api);
    await eventually(
      async () =>
        (r = await ready(api)).code === 503 && r.body.status === 'not ready',
      60_000,
      '/ready 503 while Loki answers 503',
    );
    expect(r.body).toMatchObject({
      ready: false,
      status: 'not ready',
      state: 'running',
      components: {
        sinks: { loki: { state: 'down' } },
        routes: [
          {
            route: 'default',
            sinks: ['loki'],
            state: 'down',
            downSinks: ['loki'],
          },
        ],
      },
    });
    expect(r.body.reasons).toEqual([
      expect.stringMatching(
        /^default route: every sink is down, its records are not delivered anywhere: loki \(circuit (open|half-open \(probing\)); last error LC_ERR_SINK_UNAVAILABLE: .*503/,
      ),
    ]);
    const status = (await (await fetch(`${api}/status`)).json()) as {
      sinks: SinkStatus[];
    };
    expect(status.sinks).toHaveLength(1);
    const s = status.sinks[0] as SinkStatus;
    expect(s).toMatchObject({
      name: 'loki',
      state: 'down',
      unsettledRecords: LINES.length,
      delivered: 0,
      lastError: { code: 'LC_ERR_SINK_UNAVAILABLE' },
    });
    expect(s.unsettledBatches).toBeGreaterThan(0);
    expect(s.oldestUnsettledAgeMs).toBeGreaterThan(0);
    expect(s.lastError?.message).toMatch(/503/);
    // The failure and the open circuit were said at warn, with the cause.
    const warned = logLines(agent).filter((l) => l['level'] === 40);
    expect(
      warned.some((l) => /^sink loki: delivery failed/.test(String(l['msg']))),
    ).toBe(true);
    expect(warned.some((l) => /circuit open/.test(String(l['msg'])))).toBe(
      true,
    );
    down = false;
    await eventually(
      async () => (r = await ready(api)).code === 200,
      60_000,
      '/ready 200 once Loki recovers',
    );
    expect(r.body).toMatchObject({ ready: true, status: 'ready', reasons: [] });
    await eventually(
      async () => delivered(loki).length >= LINES.length,
      60_000,
      'every line in Loki',
    );
    expect(delivered(loki)).toEqual([...LINES].sort());
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(shutdownLines(agent)).toEqual([]);
  }, 180_000);

  it('should answer /ready 503 with the refused connection, and be ready again once Loki listens', async () => {
    const dir = await scenario();
    const port = await freePort();
    const { agent, api } = await start(dir, `http://127.0.0.1:${port}`);
    let r = await ready(api);
    await eventually(
      async () => (r = await ready(api)).code === 503,
      60_000,
      '/ready 503 while the connection is refused',
    );
    expect(r.body.status).toBe('not ready');
    expect(r.body.components.sinks['loki']?.reason).toMatch(/ECONNREFUSED/);
    const loki = await lokiServer();
    await forward(port, loki.url);
    await eventually(
      async () => (r = await ready(api)).code === 200,
      60_000,
      '/ready 200 once Loki listens',
    );
    await eventually(
      async () => delivered(loki).length >= LINES.length,
      60_000,
      'every line in Loki',
    );
    expect(delivered(loki)).toEqual([...LINES].sort());
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 180_000);

  it('should stop at once with what it holds in the WAL while Loki is down, say so in one info line, and deliver it after the next start', async () => {
    const dir = await scenario();
    const loki = await lokiServer();
    loki.setHandler(() => ({ status: 503, body: 'ingester not ready' }));
    const first = await start(dir, loki.url);
    await eventually(
      async () => (await ready(first.api)).code === 503,
      60_000,
      '/ready 503 while Loki answers 503',
    );
    first.agent.child.kill('SIGTERM');
    expect(await first.agent.exited).toBe(0);
    expect(shutdownLines(first.agent)).toEqual([
      expect.objectContaining({
        level: 30,
        outcome: 'held',
        unsettledRecords: LINES.length,
        persistedRecords: LINES.length,
        sinks: ['loki'],
        wal: join(dir, 'data', 'wal'),
        msg: `stopping with ${LINES.length} records held on disk for loki (down): ${LINES.length} records in the WAL (${join(dir, 'data', 'wal')}), delivered after the next start`,
      }),
    ]);
    loki.setHandler(undefined);
    const second = await start(dir, loki.url);
    await eventually(
      async () => delivered(loki).length >= LINES.length,
      60_000,
      'every line in Loki after the restart',
    );
    expect(delivered(loki)).toEqual([...LINES].sort());
    second.agent.child.kill('SIGTERM');
    expect(await second.agent.exited).toBe(0);
  }, 180_000);

  it('should keep the API up answering 503 "stopping" until the pipeline stops, then say in one warn line what the timeout left, read again after the next start', async () => {
    const dir = await scenario();
    const hung = await hungLoki();
    const { agent, api } = await start(
      dir,
      hung.url,
      ', shutdown_timeout: 10s',
    );
    await eventually(
      async () => hung.pushes() > 0,
      60_000,
      'a push in flight to the hung Loki',
    );
    expect((await ready(api)).code).toBe(200);
    agent.child.kill('SIGTERM');
    let r = await ready(api);
    await eventually(
      async () => (r = await ready(api)).code === 503,
      30_000,
      '/ready 503 while stopping',
    );
    expect(r.body).toMatchObject({
      ready: false,
      status: 'stopping',
      state: 'stopping',
      reasons: ['agent is stopping'],
    });
    const ingest = await fetch(`${api}/api/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ message: 'while stopping' }]),
    });
    expect(ingest.status).toBe(503);
    expect(ingest.headers.get('retry-after')).toBe('1');
    expect(await ingest.json()).toEqual({
      error: 'agent is stopping: retry later',
      code: 'LC_ERR_SERVICE_UNAVAILABLE',
    });
    expect(await agent.exited).toBe(0);
    const lines = shutdownLines(agent);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        outcome: 'timed out',
        unsettledRecords: LINES.length,
        inMemoryRecords: LINES.length,
        lostRecords: 0,
        sinks: ['loki'],
        msg: `shutdown timed out after 10000 ms (dispatcher.shutdown_timeout) with ${LINES.length} records not delivered to loki: ${LINES.length} records only in memory, read again from their source after the next start (positions were not committed past them)`,
      }),
    ]);
    const loki = await lokiServer();
    const second = await start(dir, loki.url);
    await eventually(
      async () => delivered(loki).length >= LINES.length,
      60_000,
      'every line read again and delivered after the restart',
    );
    expect(delivered(loki)).toEqual([...LINES].sort());
    second.agent.child.kill('SIGTERM');
    expect(await second.agent.exited).toBe(0);
  }, 180_000);
});
