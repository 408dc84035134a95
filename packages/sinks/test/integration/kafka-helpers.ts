import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import kafkajs from 'kafkajs';
import type { IHeaders } from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** A message read back from the broker. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

function headersToStrings(
  headers: IHeaders | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {}))
    out[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
  return out;
}

/** Read `count` messages of `topics` from the beginning (or until timeoutMs). */
export async function consume(
  brokers: string[],
  topics: string[],
  count: number,
  timeoutMs = 20_000,
): Promise<ConsumedMessage[]> {
  const kafka = new Kafka({
    brokers,
    clientId: 'lc-test-consumer',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId: `lc-test-${Date.now()}-${Math.random()}`,
  });
  const out: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    for (const topic of topics)
      await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          out.push({
            topic,
            partition,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? '',
            headers: headersToStrings(message.headers),
          });
          if (out.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** An extra librdkafka mock broker owned by one test (never the shared one). */
export interface OwnBroker {
  readonly address: string;
  kill(): void;
}

/** Start `kcat -P` with a mock cluster and read its bootstrap address. */
export function startOwnBroker(): Promise<OwnBroker> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      'kcat',
      [
        '-P',
        '-b',
        '127.0.0.1:1',
        '-t',
        'lc-own',
        '-X',
        'test.mock.num.brokers=1',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat did not print its address: ${text}`));
    }, 10_000);
    child.on('error', reject);
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m =
        /bootstrap\.servers=([0-9.]+:\d+)/.exec(text) ??
        /(127\.0\.0\.1:\d+)/.exec(text);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ address: m[1] as string, kill: () => child.kill('SIGKILL') });
      }
    });
  });
}
