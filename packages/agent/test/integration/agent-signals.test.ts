import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, release, spawnAgent } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

// A Loki endpoint that accepts connections and never answers: a drain on
// shutdown cannot finish, so only the second signal ends the process.
function startSilentServer(): Promise<{ server: Server; url: string }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${address.port}` });
    }),
  );
}

describe('lc-agent run signals (real process)', () => {
  let tmp: TempDir;
  let silent: { server: Server; url: string };
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    tmp = await createTempDir('lc-agent-signals-');
    silent = await startSilentServer();
    await mkdir(join(tmp.path, 'logs'), { recursive: true });
  });

  afterEach(async () => {
    await release(agent);
    silent.server.close();
    silent.server.emit('close');
    await tmp.cleanup();
  });

  it('should force the exit with code 130 on a second SIGTERM while the drain hangs', async () => {
    await writeFile(
      join(tmp.path, 'agent.yaml'),
      `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sources: {files: [{include: ["${tmp.path}/logs/*.log"]}]}
dispatcher: {batch_timeout: 50ms, shutdown_timeout: 5m}
sinks: {loki: [{url: "${silent.url}"}]}
`,
    );
    await appendFile(join(tmp.path, 'logs', 'app.log'), 'one\ntwo\nthree\n');
    agent = spawnAgent(
      ['run', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
    );
    await agent.apiAddress();
    const a = agent;
    // A push is in flight (and will never be answered) before the signals.
    await eventually(
      async () =>
        silent.server.listening && (await connections(silent.server)) > 0,
      60_000,
      'a push connection to the silent endpoint',
    );
    a.child.kill('SIGTERM');
    await eventually(
      async () => a.stderr().includes('shutting down'),
      30_000,
      'first signal logged',
    );
    expect(a.child.exitCode).toBeNull();
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(130);
    expect(a.stderr()).toContain('second signal: forcing exit');
  }, 120_000);

  it('should answer /health during a start that hangs and still exit on SIGTERM', async () => {
    // A Docker socket that accepts and never answers: the container source
    // cannot start, so neither can the agent.
    const socket = join(tmp.path, 'docker.sock');
    const hung = createServer((c) => c.resume());
    await new Promise<void>((r) => hung.listen(socket, r));
    try {
      await writeFile(
        join(tmp.path, 'agent.yaml'),
        `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sources: {docker: {enabled: true, socket: ${socket}}}
dispatcher: {shutdown_timeout: 1s}
sinks: {file: [{directory: ${tmp.path}/out}]}
`,
      );
      agent = spawnAgent(
        ['run', '--config', join(tmp.path, 'agent.yaml')],
        tmp.path,
      );
      const a = agent;
      let listen = '';
      await eventually(
        async () => {
          listen = /"listen":"(http:\/\/[^"]+)"/.exec(a.stderr())?.[1] ?? '';
          return listen !== '';
        },
        60_000,
        'the API listening while the agent starts',
      );
      expect((await fetch(`${listen}/health`)).status).toBe(200);
      const ready = await fetch(`${listen}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({
        ready: false,
        status: 'starting',
        reasons: ['agent is starting'],
      });
      a.child.kill('SIGTERM');
      // The drain bound (1 s) + 15 s, then exit 3 (shutdown timeout).
      expect(await a.exited).toBe(3);
    } finally {
      hung.close();
    }
  }, 120_000);
});

describe('lc-agent run: a stop signal during start-up (real process)', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await createTempDir('lc-agent-early-signal-');
  });
  afterEach(() => tmp.cleanup());

  it('should stop cleanly, exit 0, when SIGTERM comes while the config is still being checked', async () => {
    // A custom sink module whose import (done by the config check, before
    // the agent starts) announces itself and then takes its time: the
    // SIGTERM lands in the middle of start-up, after the agent's first line.
    const started = join(tmp.path, 'importing');
    await writeFile(
      join(tmp.path, 'slow-sink.mjs'),
      `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(started)}, 'x');
await new Promise((r) => setTimeout(r, 1500));
export function createSink() { throw new Error('not built in this test'); }
`,
    );
    await writeFile(
      join(tmp.path, 'agent.yaml'),
      `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sinks: {custom: [{name: slow, module: ./slow-sink.mjs}]}
`,
    );
    const a = spawnAgent(
      ['run', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
    );
    try {
      await eventually(
        () =>
          import('node:fs/promises').then((fs) =>
            fs.access(started).then(
              () => true,
              () => false,
            ),
          ),
        60_000,
        'the config check importing the sink module',
      );
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(a.stderr()).toContain(
        'the stop signal came during start-up, before anything was read',
      );
    } finally {
      if (a.child.exitCode === null) a.child.kill('SIGKILL');
    }
  }, 120_000);
});

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}
