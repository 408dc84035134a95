// Secrets never leave the agent: `validate` (plain and --json, on a valid
// and an invalid config) and a real `run` — delivering to Loki with basic
// auth, to an HTTP endpoint with a bearer token and an API-key header that
// rejects every batch (so the DLQ records its reasons), with positions in
// Redis behind a URL password, reloading into an invalid config — are
// searched for every secret value, in every form it could be printed in,
// in stdout, stderr and every file the agent wrote under its data
// directory. Secrets come from the file, from `${VAR}` and from `LC_*`
// overrides. Loki is the in-test endpoint speaking Loki's wire format (no
// Loki server runs here); Redis is the real shared service.
import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLokiTestServer } from '@lc/sinks/testing';
import type { LokiTestServer } from '@lc/sinks/testing';
import { createTempDir, serviceEnv, skipWithout } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, spawnBinary } from './agent-process.js';
import { runCli } from './cli-process.js';

const noRedis = await skipWithout('redis');

const SECRETS = {
  apiToken: 'sEcReT-api-token-71', // ${T_API_TOKEN}
  lokiPassword: 'sEcReT-loki-pass-72', // in the file
  httpBearer: 'sEcReT-http-bearer-73', // in bearer_token_file
  httpHeader: 'sEcReT-header-74', // in the file (a header value)
  lokiHeader: 'sEcReT-loki-hdr-75', // in the file (Authorization-like header)
  redisPassword: 'sEcReT-redis-76', // in a URL, via LC_REDIS_URL
  reloadSecret: 'sEcReT-reload-77', // only in the invalid config a reload reads
  badPassword: '907162534', // a password of the wrong type (a number)
};
const LOKI_USER = 'lc-user';
/** Every form a secret could be printed in. */
const FORMS = [
  ...Object.values(SECRETS),
  Buffer.from(`${LOKI_USER}:${SECRETS.lokiPassword}`).toString('base64'),
];

let tmp: TempDir;
let loki: LokiTestServer | undefined;
let http: Server | undefined;
beforeEach(async () => {
  tmp = await createTempDir('lc-cli-secrets-');
  await writeFile(join(tmp.path, 'bearer.txt'), `${SECRETS.httpBearer}\n`);
});
afterEach(async () => {
  await loki?.close();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  loki = undefined;
  http = undefined;
  await tmp.cleanup();
});

function expectNoSecret(where: string, text: string): void {
  for (const s of FORMS) expect(text, `${where} holds ${s}`).not.toContain(s);
}

/** Every file under `dir` (paths and contents). */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(p, (await readFile(p)).toString('latin1'));
    }
  };
  await walk(dir);
  return out;
}

const redisUrl = () => {
  const url = new URL(serviceEnv().redisUrl ?? 'redis://127.0.0.1:6379');
  url.password = SECRETS.redisPassword;
  return url.href;
};

/** The config: every secret in its place; `invalid` breaks secret-bearing keys. */
function configYaml(
  dir: string,
  lokiUrl: string,
  httpUrl: string,
  invalid = false,
) {
  return [
    `app: {data_dir: ${dir}/data, log_level: debug}`,
    'api: {port: 0, token: "${T_API_TOKEN}"}',
    noRedis
      ? 'positions: {store: file}'
      : 'positions: {store: redis, namespace: lc-secrets-test}',
    `sources: {files: [{include: ["${dir}/logs/*.log"]}]}`,
    'dispatcher: {batch_timeout: 50ms}',
    'sinks:',
    '  loki:',
    `    - url: ${invalid ? `htp://u:${SECRETS.reloadSecret}@x` : lokiUrl}`,
    `      username: ${LOKI_USER}`,
    `      password: ${invalid ? SECRETS.badPassword : SECRETS.lokiPassword}`,
    `      headers: {X-Loki-Auth: "${SECRETS.lokiHeader}"}`,
    '  http:',
    `    - url: ${httpUrl}`,
    `      bearer_token_file: ${dir}/bearer.txt`,
    `      headers: {X-Api-Key: ${invalid ? `[${SECRETS.httpHeader}]` : SECRETS.httpHeader}}`,
    '',
  ].join('\n');
}

const ENV = {
  T_API_TOKEN: SECRETS.apiToken,
  ...(noRedis ? {} : { LC_REDIS_URL: redisUrl() }),
};

async function startEndpoints(): Promise<{
  lokiUrl: string;
  httpUrl: string;
  posts: () => number;
}> {
  loki = await createLokiTestServer({
    expectAuthorization: `Basic ${Buffer.from(`${LOKI_USER}:${SECRETS.lokiPassword}`).toString('base64')}`,
  });
  let posts = 0;
  http = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts++;
      // Every batch is refused for good: its records go to the DLQ.
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('malformed batch');
    });
  });
  await new Promise<void>((r) => http?.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    lokiUrl: loki.url,
    httpUrl: `http://127.0.0.1:${port}/ingest`,
    posts: () => posts,
  };
}

describe('secrets (built binary)', () => {
  it('should never print a secret from validate, plain or --json, valid or invalid', async () => {
    const { lokiUrl, httpUrl } = await startEndpoints();
    const good = join(tmp.path, 'good.yaml');
    const bad = join(tmp.path, 'bad.yaml');
    await mkdir(join(tmp.path, 'logs'));
    await writeFile(good, configYaml(tmp.path, lokiUrl, httpUrl));
    await writeFile(bad, configYaml(tmp.path, lokiUrl, httpUrl, true));
    for (const [file, code] of [
      [good, 0],
      [bad, 2],
    ] as const) {
      for (const json of [false, true]) {
        const args = [
          'validate',
          '--config',
          file,
          ...(json ? ['--json'] : []),
        ];
        const r = await runCli(args, { cwd: tmp.path, env: ENV });
        expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
        expectNoSecret(`${args.join(' ')} stdout`, r.stdout);
        expectNoSecret(`${args.join(' ')} stderr`, r.stderr);
        if (json && code === 0) {
          const body = JSON.parse(r.stdout) as {
            config: {
              api: { token: string };
              sinks: { loki: { password: string }[] };
            };
          };
          expect(body.config.api.token).toBe('[REDACTED]');
          expect(body.config.sinks.loki[0]?.password).toBe('[REDACTED]');
        }
        if (code === 2)
          expect(r.stdout + r.stderr).toMatch(
            json
              ? /"path": "sinks\.loki\[0\]\.password",\s+"message": "expected string, got a number"/
              : /sinks\.loki\[0\]\.password: expected string, got a number/,
          );
      }
    }
  }, 120_000);

  it('should never write a secret to stdout, stderr or the data directory while running', async () => {
    const { lokiUrl, httpUrl, posts } = await startEndpoints();
    const config = join(tmp.path, 'agent.yaml');
    await mkdir(join(tmp.path, 'logs'));
    await writeFile(config, configYaml(tmp.path, lokiUrl, httpUrl));
    // The first push is throttled: a failure that gets logged, then retried.
    loki?.respondWith({ status: 429, body: 'slow down' });
    const agent = spawnBinary(['run', '--config', config], tmp.path, ENV);
    try {
      await agent.apiAddress();
      await appendFile(
        join(tmp.path, 'logs', 'app.log'),
        'line one\nline two\nline three\n',
      );
      await eventually(
        () =>
          Promise.resolve(
            (loki?.entries().length ?? 0) >= 3 &&
              posts() >= 1 &&
              agent.stderr().includes('dead-lettered (kept for replay)'),
          ),
        60_000,
        'lines delivered to Loki and refused by the HTTP endpoint into the DLQ',
      );
      // A reload into a config whose secret-bearing keys are wrong.
      await writeFile(config, configYaml(tmp.path, lokiUrl, httpUrl, true));
      agent.child.kill('SIGHUP');
      await eventually(
        () => Promise.resolve(agent.stderr().includes('reload rejected')),
        30_000,
        'reload rejected',
      );
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
    expect(agent.stderr()).toContain(
      'sinks.loki[0].password: expected string, got a number',
    );
    expectNoSecret('stdout', agent.stdout());
    expectNoSecret('stderr', agent.stderr());
    const written = await filesUnder(join(tmp.path, 'data'));
    expect([...written.keys()].some((p) => p.includes('/dlq/'))).toBe(true);
    for (const [path, content] of written) expectNoSecret(path, content);
  }, 180_000);
});
