// Every kind of config the schema accepts runs until it is told to stop:
// the built lc-agent binary is started on minimal configs (API off, metrics
// off, no file sources, Docker only, HTTP ingest only, each sink alone),
// each must deliver, still run afterwards, and stop on SIGTERM with exit 0
// and a log line saying so. Loki is the in-test endpoint speaking Loki's
// protobuf + snappy wire format (no Loki server can run here); Docker and
// Kafka are the real engine and the librdkafka mock broker.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLokiTestServer } from '@lc/sinks/testing';
import { createTempDir, serviceEnv, skipWithout } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  readSinkLines,
  release,
  spawnBinary,
} from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const run = promisify(execFile);
const LINES = ['minimal one', 'minimal two', 'minimal three'];
const noDocker = await skipWithout('docker');
const noKafka = await skipWithout('kafka');

let tmp: TempDir | undefined;
let agent: AgentProcess | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await release(agent);
  agent = undefined;
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await release(tmp);
  tmp = undefined;
});

/** Start the binary on `yaml` (`{dir}` is the scenario directory). */
async function start(yaml: (dir: string) => string): Promise<string> {
  tmp = await createTempDir('lc-agent-minimal-');
  const dir = tmp.path;
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(join(dir, 'agent.yaml'), yaml(dir));
  agent = spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);
  return dir;
}

const writeLines = (dir: string) =>
  appendFile(join(dir, 'logs', 'app.log'), `${LINES.join('\n')}\n`);

/** Still running after delivering, then a clean stop on SIGTERM. */
async function expectRunsUntilStopped(): Promise<void> {
  const a = agent as AgentProcess;
  expect(a.child.exitCode).toBeNull();
  a.child.kill('SIGTERM');
  expect(await a.exited).toBe(0);
  expect(a.stderr()).toContain('"msg":"agent stopped"');
}

const fileSink = (dir: string) =>
  `sinks: {file: [{name: out, directory: ${dir}/out}]}`;
const fileSource = (dir: string) =>
  `sources: {files: [{include: ["${dir}/logs/*.log"]}]}`;
const delivered = (dir: string) => async () =>
  (await readSinkLines(join(dir, 'out'))).length >= LINES.length;

describe('lc-agent run on minimal configs (built binary)', () => {
  it('should run with the API off', async () => {
    const dir = await start(
      (d) =>
        `app: {data_dir: ${d}/data}\napi: {enabled: false}\n${fileSource(d)}\n${fileSink(d)}\n`,
    );
    await writeLines(dir);
    await eventually(delivered(dir), 60_000, 'lines delivered');
    expect((await readSinkLines(join(dir, 'out'))).sort()).toEqual(
      [...LINES].sort(),
    );
    await expectRunsUntilStopped();
  });

  it('should run with metrics off (and say so on /metrics)', async () => {
    const dir = await start(
      (d) =>
        `app: {data_dir: ${d}/data}\napi: {port: 0}\nmetrics: {enabled: false}\n${fileSource(d)}\n${fileSink(d)}\n`,
    );
    const address = await (agent as AgentProcess).apiAddress();
    await writeLines(dir);
    await eventually(delivered(dir), 60_000, 'lines delivered');
    expect((await fetch(`${address}/metrics`)).status).toBe(404);
    await expectRunsUntilStopped();
  });

  it('should run on HTTP ingest only, with no file sources', async () => {
    const dir = await start(
      (d) =>
        `app: {data_dir: ${d}/data}\napi: {port: 0}\nsources: {files: []}\n${fileSink(d)}\n`,
    );
    const address = await (agent as AgentProcess).apiAddress();
    const res = await fetch(`${address}/api/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(LINES.map((line) => ({ line }))),
    });
    expect(res.status).toBeLessThan(300);
    await eventually(delivered(dir), 60_000, 'lines delivered');
    await expectRunsUntilStopped();
  });

  describe.skipIf(noDocker)('with Docker', () => {
    it('should run on the Docker source only', async () => {
      const env = serviceEnv();
      const name = `lc-minimal-${process.pid}-${Date.now()}`;
      const dir = await start(
        (d) =>
          `app: {data_dir: ${d}/data}\napi: {enabled: false}\nsources: {files: [], docker: {enabled: true, socket: ${env.dockerSocket ?? '/var/run/docker.sock'}, include_names: ["${name}"]}}\n${fileSink(d)}\n`,
      );
      cleanups.push(() => run('docker', ['rm', '-f', name]));
      await run('docker', [
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        name,
        env.dockerTestImage,
        'sh',
        '-c',
        `${LINES.map((l) => `echo '${l}'`).join('; ')}; sleep 600`,
      ]);
      await eventually(delivered(dir), 60_000, 'container lines delivered');
      await expectRunsUntilStopped();
    });
  });

  describe('each sink alone', () => {
    it('should deliver to stdout', async () => {
      const dir = await start(
        (d) =>
          `app: {data_dir: ${d}/data}\napi: {enabled: false}\n${fileSource(d)}\nsinks: {stdout: [{format: text}]}\n`,
      );
      await writeLines(dir);
      const a = agent as AgentProcess;
      await eventually(
        async () => LINES.every((l) => a.stdout().includes(l)),
        60_000,
        'lines on stdout',
      );
      await expectRunsUntilStopped();
    });

    it('should deliver to an HTTP endpoint', async () => {
      const bodies: string[] = [];
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          bodies.push(body);
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanups.push(() => new Promise((r) => server.close(r)));
      const port = (server.address() as AddressInfo).port;
      const dir = await start(
        (d) =>
          `app: {data_dir: ${d}/data}\napi: {enabled: false}\n${fileSource(d)}\nsinks: {http: [{name: web, url: "http://127.0.0.1:${port}/ingest"}]}\n`,
      );
      await writeLines(dir);
      await eventually(
        async () => LINES.every((l) => bodies.join('\n').includes(l)),
        60_000,
        'lines posted',
      );
      await expectRunsUntilStopped();
    });

    it('should deliver to Loki (in-test endpoint, real wire format)', async () => {
      const loki = await createLokiTestServer();
      cleanups.push(() => loki.close());
      const dir = await start(
        (d) =>
          `app: {data_dir: ${d}/data}\napi: {enabled: false}\n${fileSource(d)}\nsinks: {loki: [{url: "${loki.url}"}]}\n`,
      );
      await writeLines(dir);
      await eventually(
        async () => loki.entries().length >= LINES.length,
        60_000,
        'lines pushed',
      );
      expect(
        loki
          .entries()
          .map((e) => e.line)
          .sort(),
      ).toEqual([...LINES].sort());
      await expectRunsUntilStopped();
    });

    it.skipIf(noKafka)('should deliver to Kafka (mock broker)', async () => {
      const brokers = (serviceEnv().kafkaBrokers ?? '').split(',');
      const topic = `lc-minimal-${process.pid}-${Date.now()}`;
      const dir = await start(
        (d) =>
          `app: {data_dir: ${d}/data}\napi: {enabled: false}\n${fileSource(d)}\nsinks: {kafka: [{name: k, brokers: ${JSON.stringify(brokers)}, topic: ${topic}, format: text}]}\n`,
      );
      await writeLines(dir);
      const kafka = new kafkajs.Kafka({
        brokers,
        clientId: 'lc-minimal',
        logLevel: kafkajs.logLevel.NOTHING,
      });
      const consumer = kafka.consumer({ groupId: topic });
      cleanups.push(() => consumer.disconnect());
      const got: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value?.toString() ?? '');
        },
      });
      await eventually(
        async () => got.length >= LINES.length,
        60_000,
        'lines produced',
      );
      expect(got.sort()).toEqual([...LINES].sort());
      await expectRunsUntilStopped();
    });
  });
});
