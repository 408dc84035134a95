// A secret never leaves the process through the API: the real, built
// lc-agent binary runs on a config carrying distinct secret values (the API
// token, a Loki basic-auth password and a header value, the last two
// through ${VAR} substitution), every endpoint is called with and without
// the token, and no response body, nor anything the agent wrote to stdout
// or stderr, contains any of them. Loki is an HTTP endpoint in the test
// speaking Loki's protobuf + snappy push format (no Loki server can run
// here); it checks the credentials arrived, so the secrets were used.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, release, spawnBinary } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const TOKEN = 'tkn-4f1c9e27b3a8';
const PASSWORD = 'pwd-8d2e61f05c97';
const HEADER = 'hdr-5b7a03e9d412';
const BASIC = Buffer.from(`lc:${PASSWORD}`).toString('base64');
const SECRETS = { TOKEN, PASSWORD, HEADER, BASIC };

let tmp: TempDir | undefined;
let loki: LokiTestServer | undefined;
let agent: AgentProcess | undefined;

afterEach(async () => {
  await release(agent, loki, tmp);
  agent = loki = tmp = undefined;
});

describe('lc-agent run: secrets and the API (real process)', () => {
  it('should require the token on every endpoint but /health, /ready and /metrics, and let no secret out in any response or log', async () => {
    tmp = await createTempDir('lc-agent-secrets-');
    const dir = tmp.path;
    await mkdir(join(dir, 'logs'), { recursive: true });
    await appendFile(join(dir, 'logs', 'app.log'), 'first\nsecond\n');
    loki = await createLokiTestServer({
      expectAuthorization: `Basic ${BASIC}`,
    });
    // The first push is refused for good: a dead letter to list and replay.
    loki.respondWith({ status: 400, body: 'entry out of order' });
    await writeFile(
      join(dir, 'agent.yaml'),
      `app: {data_dir: ${dir}/data}
api: {port: 0, token: ${TOKEN}}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
dispatcher: {batch_timeout: 50ms}
sinks:
  loki:
    - url: "${loki.url}"
      username: lc
      password: "\${LOKI_PASSWORD}"
      headers: {X-Api-Key: "\${LOKI_API_KEY}"}
`,
    );
    agent = spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir, {
      LOKI_PASSWORD: PASSWORD,
      LOKI_API_KEY: HEADER,
    });
    const api = await agent.apiAddress();
    const auth = { authorization: `Bearer ${TOKEN}` };
    await eventually(
      async () => {
        const res = await fetch(`${api}/dlq`, { headers: auth });
        return ((await res.json()) as { total: number }).total > 0;
      },
      60_000,
      'the refused push dead-lettered',
    );
    await appendFile(join(dir, 'logs', 'app.log'), 'third\n');
    await eventually(
      async () => loki?.requests.some((r) => r.status === 204) ?? false,
      60_000,
      'a push accepted by Loki',
    );
    // The secrets reached Loki: they were used, not merely dropped.
    expect(loki.requests.at(-1)?.headers['x-api-key']).toBe(HEADER);

    const bodies: string[] = [];
    const call = async (
      method: 'GET' | 'POST',
      path: string,
      headers: Record<string, string>,
      body?: unknown,
    ): Promise<number> => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: {
          ...headers,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      bodies.push(`${method} ${path} ${res.status}\n${await res.text()}`);
      return res.status;
    };
    const endpoints: Array<['GET' | 'POST', string, unknown?]> = [
      ['GET', '/status'],
      ['GET', '/stats'],
      ['GET', '/positions'],
      ['GET', '/batches'],
      ['GET', '/config'],
      ['GET', '/dlq'],
      ['POST', '/dlq/replay', {}],
      ['POST', '/config/reload'],
      ['POST', '/api/v1/logs', [{ message: 'via http' }]],
    ];
    for (const [method, path, body] of endpoints) {
      const refused: Array<Record<string, string>> = [
        {},
        { authorization: `Bearer not-${TOKEN}` },
      ];
      for (const headers of refused)
        expect(await call(method, path, headers, body), path).toBe(401);
      expect(await call(method, path, auth, body), path).toBeLessThan(300);
    }
    for (const path of ['/health', '/ready', '/metrics'])
      expect(await call('GET', path, {}), path).toBe(200);
    expect(await call('GET', '/nope', {})).toBe(401);

    // /config is there, redacted.
    const config = bodies.find((b) => b.startsWith('GET /config 200'));
    expect(config).toContain('[REDACTED]');
    expect(config).toContain('"username":"lc"');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const out = [...bodies, agent.stdout(), agent.stderr()].join('\n');
    for (const [name, value] of Object.entries(SECRETS))
      expect(out.includes(value), `${name} in a response or log`).toBe(false);
  }, 180_000);
});
