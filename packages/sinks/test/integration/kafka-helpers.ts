import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { servicesRequired } from '@lc/test-utils';
import kafkajs from 'kafkajs';
import type { IHeaders } from 'kafkajs';
import type { KafkaClientName } from '../../src/kafka-sink.js';
import { librdkafkaStatus } from '../../src/librdkafka-status.js';

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

/**
 * Read `count` messages of `topic` from the beginning with `kcat -C -J`
 * (librdkafka's own consumer: it decodes lz4 and zstd, which the kafkajs
 * consumer cannot).
 */
export async function consumeWithKcat(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ConsumedMessage[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'kcat',
      [
        '-C',
        '-b',
        brokers.join(','),
        '-t',
        topic,
        '-J',
        '-o',
        'beginning',
        '-c',
        String(count),
        '-q',
      ],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, out, err) =>
        error === null
          ? resolve(out)
          : reject(new Error(`kcat -C: ${error.message} ${err}`)),
    );
  });
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const m = JSON.parse(l) as {
        topic: string;
        partition: number;
        key: string | null;
        payload: string | null;
        headers?: string[];
      };
      const headers: Record<string, string> = {};
      const h = m.headers ?? [];
      for (let i = 0; i + 1 < h.length; i += 2)
        headers[h[i] as string] = h[i + 1] as string;
      return {
        topic: m.topic,
        partition: m.partition,
        key: m.key,
        value: m.payload ?? '',
        headers,
      };
    });
}

/** An extra librdkafka mock broker owned by one test (never the shared one). */
export interface OwnBroker {
  readonly address: string;
  kill(): void;
  /** Kill it and wait until the process is gone (its port refuses). */
  killAndWait(): Promise<void>;
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
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        resolve({
          address: m[1] as string,
          kill: () => child.kill('SIGKILL'),
          killAndWait: async () => {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
  });
}

/** Both built-in clients; every Kafka integration test runs for each. */
export const KAFKA_CLIENTS: readonly KafkaClientName[] = [
  'kafkajs',
  'librdkafka',
];

/**
 * Why `client` cannot be tested here, or `undefined`. The librdkafka
 * client is an optional native module; when it did not build, its tests
 * skip with the reason, or fail under LC_REQUIRE_SERVICES=1 (CI builds it)
 * through {@link describeClient}.
 */
export function clientUnavailable(client: KafkaClientName): string | undefined {
  if (client === 'kafkajs') return undefined;
  const status = librdkafkaStatus();
  return status.available ? undefined : `${status.reason} (${status.hint})`;
}

/**
 * `describe` a block per client: skipped with a printed reason when the
 * client (or the broker, `skipBroker`) is missing, but a failing test
 * instead when LC_REQUIRE_SERVICES=1 requires it.
 */
export function describeClient(
  describe: {
    (name: string, fn: () => void): void;
    skipIf(condition: boolean): (name: string, fn: () => void) => void;
  },
  it: (name: string, fn: () => void) => void,
  title: string,
  skipBroker: boolean,
  fn: (client: KafkaClientName) => void,
): void {
  for (const client of KAFKA_CLIENTS) {
    const missing = clientUnavailable(client);
    if (missing !== undefined && servicesRequired()) {
      describe(`${title} (${client})`, () => {
        it('should have the client installed (LC_REQUIRE_SERVICES=1)', () => {
          throw new Error(`client ${client} is unavailable: ${missing}`);
        });
      });
      continue;
    }
    if (missing !== undefined)
      console.warn(`[skip] Kafka client ${client} unavailable: ${missing}`);
    describe.skipIf(skipBroker || missing !== undefined)(
      `${title} (${client})`,
      () => fn(client),
    );
  }
}
