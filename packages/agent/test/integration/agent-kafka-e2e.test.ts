import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { librdkafkaStatus } from '@lc/sinks';
import {
  createTempDir,
  serviceEnv,
  servicesRequired,
  skipWithout,
} from '@lc/test-utils';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { spawnAgent } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const { Kafka, logLevel } = kafkajs;

async function consume(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<string[]> {
  const kafka = new Kafka({
    brokers,
    clientId: 'lc-agent-e2e',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `lc-agent-e2e-${Date.now()}` });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString() ?? '');
          if (values.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

const native = librdkafkaStatus();

describe.skipIf(await skipWithout('kafka'))(
  'lc-agent run → Kafka (real process, mock broker)',
  () => {
    // auto: librdkafka where the native module is installed, else kafkajs.
    const cases = [
      ['auto', native.available ? 'librdkafka' : 'kafkajs'],
      ['kafkajs', 'kafkajs'],
      ['librdkafka', 'librdkafka'],
    ] as const;
    for (const [client, expectedClient] of cases) {
      const needsNative = client === 'librdkafka' && !native.available;
      if (needsNative && !servicesRequired())
        console.warn(`[skip] client librdkafka unavailable: ${native.reason}`);
      it.skipIf(needsNative && !servicesRequired())(
        `should produce every line once to the topic (client: ${client}, runs on ${expectedClient})`,
        async () => {
          if (!native.available && client === 'librdkafka')
            throw new Error(
              `client librdkafka is required (LC_REQUIRE_SERVICES=1) but unavailable: ${native.reason}`,
            );
          const brokers = (serviceEnv().kafkaBrokers ?? '').split(',');
          const topic = `lc-agent-e2e-${client}-${process.pid}-${Date.now()}`;
          const tmp = await createTempDir('lc-agent-kafka-');
          await mkdir(join(tmp.path, 'logs'), { recursive: true });
          await writeFile(
            join(tmp.path, 'agent.yaml'),
            `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sources: {files: [{include: ["${tmp.path}/logs/*.log"]}]}
dispatcher: {batch_timeout: 100ms}
sinks: {kafka: [{brokers: ${JSON.stringify(brokers)}, topic: ${topic}, format: text, acks: 1, client: ${client}}]}
`,
          );
          const expected = Array.from(
            { length: 200 },
            (_, i) => `kafka line ${i}`,
          );
          await appendFile(
            join(tmp.path, 'logs', 'k.log'),
            `${expected.join('\n')}\n`,
          );
          let agent: AgentProcess | undefined;
          try {
            agent = spawnAgent(
              ['run', '--config', join(tmp.path, 'agent.yaml')],
              tmp.path,
            );
            await agent.apiAddress();
            // Wait for the committed position to cover the file: then all is produced.
            const address = await agent.apiAddress();
            const end = Date.now() + 60_000;
            for (;;) {
              const { positions } = (await (
                await fetch(`${address}/positions`)
              ).json()) as { positions: { kind: string; offset?: number }[] };
              const total = expected.join('\n').length + 1;
              if (
                positions.some((p) => p.kind === 'file' && p.offset === total)
              )
                break;
              if (Date.now() > end)
                throw new Error(`not committed: ${JSON.stringify(positions)}`);
              await new Promise((r) => setTimeout(r, 200));
            }
            expect(agent.stderr()).toContain(`uses client ${expectedClient}`);
            agent.child.kill('SIGTERM');
            expect(await agent.exited).toBe(0);
            const values = await consume(
              brokers,
              topic,
              expected.length + 1,
              15_000,
            );
            expect([...values].sort()).toEqual([...expected].sort());
          } finally {
            if (agent !== undefined && agent.child.exitCode === null)
              agent.child.kill('SIGKILL');
            await tmp.cleanup();
          }
        },
        150_000,
      );
    }
  },
);
