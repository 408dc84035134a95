import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { serviceEnv, skipWithout } from '../../src/index.js';

const env = serviceEnv();

describe.skipIf(await skipWithout('docker'))('docker engine', () => {
  it('should list containers and read the logs of one it started', async () => {
    const docker = new Docker({ socketPath: env.dockerSocket });
    const container = await docker.createContainer({
      Image: env.dockerTestImage,
      Cmd: ['sh', '-c', 'for i in 1 2 3; do echo line-$i; done; echo oops >&2'],
      Labels: { 'lc-test': 'services' },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      await container.wait();
      const listed = await docker.listContainers({
        all: true,
        filters: { label: ['lc-test=services'] },
      });
      expect(listed.map((c) => c.Id)).toContain(container.id);
      const raw = await container.logs({
        stdout: true,
        stderr: true,
        follow: false,
        timestamps: true,
      });
      // Non-TTY logs are multiplexed: 8-byte header (stream, 0,0,0, size BE32) then payload.
      const lines: Array<{ stream: number; text: string }> = [];
      for (let off = 0; off < raw.length;) {
        const size = raw.readUInt32BE(off + 4);
        lines.push({
          stream: raw[off] as number,
          text: raw
            .subarray(off + 8, off + 8 + size)
            .toString('utf8')
            .trimEnd(),
        });
        off += 8 + size;
      }
      // Order between stdout and stderr is not defined; within a stream it is.
      const text = (stream: number): Array<string | undefined> =>
        lines
          .filter((l) => l.stream === stream)
          .map((l) => l.text.split(' ')[1]);
      expect(text(1)).toEqual(['line-1', 'line-2', 'line-3']);
      expect(text(2)).toEqual(['oops']);
      expect(lines[0]?.text).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z /,
      );
    } finally {
      await container.remove({ force: true });
    }
  });
});

describe.skipIf(await skipWithout('kafka'))('kafka broker', () => {
  it('should produce 1,000 records with acks=-1 and consume all of them back', async () => {
    const kafka = new Kafka({
      clientId: 'lc-services-test',
      brokers: [env.kafkaBrokers as string],
      logLevel: logLevel.NOTHING,
    });
    const topic = `lc-services-${Date.now()}`;
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const values = Array.from({ length: 1000 }, (_, i) => `record-${i}`);
    for (let i = 0; i < values.length; i += 250) {
      await producer.send({
        topic,
        acks: -1,
        messages: values.slice(i, i + 250).map((value) => ({ value })),
      });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `g-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${seen.length} of 1000 consumed`)),
        30_000,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value?.toString() ?? '');
          if (seen.length === values.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect([...seen].sort()).toEqual([...values].sort());
  });
});

describe.skipIf(await skipWithout('redis'))('redis', () => {
  it('should SET and GET a key', async () => {
    const redis = new Redis(env.redisUrl as string, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    await redis.connect();
    const key = `lc-services-${Date.now()}`;
    await redis.set(key, 'value', 'EX', 60);
    expect(await redis.get(key)).toBe('value');
    await redis.del(key);
    redis.disconnect();
  });
});
