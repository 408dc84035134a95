import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { serviceEnv, skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafkaJsProducer } from '../../src/kafka-producer.js';
import { createRdKafkaProducer } from '../../src/kafka-rdkafka-producer.js';
import { createKafkaSink } from '../../src/kafka-sink.js';
import type { KafkaClientName } from '../../src/kafka-sink.js';
import { librdkafkaStatus } from '../../src/librdkafka-status.js';
import {
  consume,
  consumeWithKcat,
  describeClient,
  startOwnBroker,
} from './kafka-helpers.js';
import type { OwnBroker } from './kafka-helpers.js';

const skip = await skipWithout('kafka');
const brokers = (serviceEnv().kafkaBrokers ?? '127.0.0.1:1').split(',');
const signal = new AbortController().signal;
const run = `${process.pid}-${Date.now()}`;

function rec(i: number, labels: Record<string, string> = {}): LogRecord {
  return {
    line: `line ${i} ünïcode ${'z'.repeat(i % 5)}`,
    labels: freezeLabels({ ...labels }),
    timestampMs: 1_700_000_000_000 + i,
    timestampNanos: i,
    source: { kind: 'file', id: 'k' },
    cursor: { offset: i },
  };
}

/** Compressions each client can do here (zstd: librdkafka built with libzstd). */
function compressions(client: KafkaClientName) {
  if (client === 'kafkajs') return ['none', 'gzip', 'snappy'] as const;
  const status = librdkafkaStatus();
  const built = status.available ? status.features : [];
  return (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).filter(
    (c) => c === 'none' || built.includes(c),
  );
}

describeClient(
  describe,
  it,
  'createKafkaSink against the mock broker',
  skip,
  (client) => {
    let topicSeq = 0;
    describeSinkContract(
      `kafka (${client}, mock broker)`,
      () => {
        const topic = `lc-contract-${client}-${run}-${topicSeq++}`;
        return {
          sink: createKafkaSink({ brokers, topic, format: 'text', client }),
          // Partitions interleave on read; the record index header restores delivery order.
          readBack: async () =>
            (await consume(brokers, [topic], 25))
              .sort(
                (a, b) =>
                  Number(a.headers['lc-record-index']) -
                  Number(b.headers['lc-record-index']),
              )
              .map((m) => m.value),
        };
      },
      { timeoutMs: 40_000 },
    );

    for (const dedupHeaders of ['record_id', 'none'] as const) {
      it(
        `should send the dedup headers of dedupHeaders ${dedupHeaders}`,
        { timeout: 60_000 },
        async () => {
          const topic = `lc-it-${client}-dedup-${dedupHeaders}-${run}`;
          const sink = createKafkaSink({
            brokers,
            topic,
            client,
            dedupHeaders,
            format: 'text',
          });
          const batch = Array.from({ length: 20 }, (_, i) => rec(i));
          expect(await sink.write(batch, { signal })).toEqual({
            status: 'success',
          });
          await sink.shutdown();
          const got = await consume(brokers, [topic], batch.length);
          expect(got.map((m) => m.value).sort()).toEqual(
            batch.map((r) => r.line).sort(),
          );
          for (const m of got)
            expect(Object.keys(m.headers)).toEqual(
              dedupHeaders === 'none' ? [] : ['lc-record-id'],
            );
          if (dedupHeaders === 'record_id')
            expect(
              new Set(got.map((m) => m.headers['lc-record-id'])).size,
            ).toBe(batch.length);
        },
      );
    }

    for (const compression of compressions(client)) {
      it(
        `should produce with ${compression} and read back exactly`,
        { timeout: 60_000 },
        async () => {
          const topic = `lc-it-${client}-${compression}-${run}`;
          const sink = createKafkaSink({
            brokers,
            topic,
            client,
            compression,
            keyLabel: 'tenant',
            format: 'text',
          });
          const batch = Array.from({ length: 60 }, (_, i) =>
            rec(i, { tenant: `t${i % 3}` }),
          );
          expect(await sink.write(batch, { signal })).toEqual({
            status: 'success',
          });
          await sink.shutdown();
          // kafkajs cannot decode lz4 or zstd: kcat (librdkafka) reads those.
          const got =
            compression === 'lz4' || compression === 'zstd'
              ? await consumeWithKcat(brokers, topic, batch.length)
              : await consume(brokers, [topic], batch.length);
          expect(got).toHaveLength(batch.length);
          const byIndex = new Map(
            got.map((m) => [Number(m.headers['lc-record-index']), m]),
          );
          for (let i = 0; i < batch.length; i++) {
            const m = byIndex.get(i);
            expect(m?.value).toBe(batch[i]!.line);
            expect(m?.key).toBe(`t${i % 3}`);
            expect(m?.headers['lc-batch-id']).toMatch(/^[\w-]{22}$/);
          }
          // Same key, same partition; order kept within a partition.
          for (const key of ['t0', 't1', 't2']) {
            const msgs = got.filter((m) => m.key === key);
            expect(new Set(msgs.map((m) => m.partition)).size).toBe(1);
            const idx = msgs.map((m) => Number(m.headers['lc-record-index']));
            expect(idx).toEqual([...idx].sort((a, b) => a - b));
          }
        },
      );
    }
  },
);

describeClient(
  describe,
  it,
  'createKafkaSink with an oversize record',
  skip,
  (client) => {
    it(
      'should fail only the oversize record and deliver the rest',
      { timeout: 60_000 },
      async () => {
        const topic = `lc-it-oversize-${client}-${run}`;
        const sink = createKafkaSink({
          brokers,
          topic,
          format: 'text',
          client,
        });
        const batch = [
          rec(1),
          { ...rec(2), line: 'y'.repeat(2_000_000) },
          rec(3),
        ];
        const result = await sink.write(batch, { signal });
        expect(result).toMatchObject({
          status: 'partial',
          failed: [
            {
              index: 1,
              retryable: false,
              error: { code: 'LC_ERR_RECORD_TOO_LARGE' },
            },
          ],
        });
        await sink.shutdown();
        const got = await consume(brokers, [topic], 2);
        expect(got.map((m) => m.value).sort()).toEqual(
          [rec(1).line, rec(3).line].sort(),
        );
      },
    );
  },
);

describeClient(
  describe,
  it,
  'createKafkaSink when its broker dies',
  skip,
  (client) => {
    let broker: OwnBroker | undefined;
    afterEach(() => broker?.kill());

    it(
      'should resolve retryable without crashing, then recover on a new client',
      { timeout: 90_000 },
      async () => {
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown): void => {
          unhandled.push(reason);
        };
        process.on('unhandledRejection', onUnhandled);
        try {
          broker = await startOwnBroker();
          let address = broker.address;
          let created = 0;
          const topic = `lc-kill-${client}-${run}`;
          const sink = createKafkaSink({
            topic,
            requestTimeoutMs: 5000,
            producer: () => {
              created++;
              return client === 'kafkajs'
                ? createKafkaJsProducer({
                    brokers: [address],
                    connectionTimeoutMs: 1000,
                    retries: 0,
                  })
                : createRdKafkaProducer({
                    brokers: [address],
                    connectionTimeoutMs: 1000,
                    requestTimeoutMs: 5000,
                  });
            },
          });
          expect(await sink.write([rec(1)], { signal })).toEqual({
            status: 'success',
          });
          // Kill the broker while a batch is in flight.
          const inFlight = sink.write(
            Array.from({ length: 200 }, (_, i) => rec(i)),
            { signal },
          );
          broker.kill();
          const during = await inFlight;
          expect(['success', 'retryable']).toContain(during.status);
          const after = await sink.write([rec(2)], { signal });
          expect(after).toMatchObject({
            status: 'retryable',
            error: { code: 'LC_ERR_SINK_UNAVAILABLE' },
          });
          // A new broker on a new port: the next client finds it.
          broker = await startOwnBroker();
          address = broker.address;
          let recovered = await sink.write([rec(3)], { signal });
          for (let i = 0; i < 5 && recovered.status !== 'success'; i++)
            recovered = await sink.write([rec(3)], { signal });
          expect(recovered).toEqual({ status: 'success' });
          expect(created).toBeGreaterThanOrEqual(2);
          await sink.shutdown();
          const got = await consume([address], [topic], 1, 15_000);
          expect(
            got.map((m) => (JSON.parse(m.value) as { line: string }).line),
          ).toEqual([rec(3).line]);
        } finally {
          process.off('unhandledRejection', onUnhandled);
        }
        expect(unhandled).toEqual([]);
      },
    );

    it(
      'should shut down while the broker is dead and a write is in flight, resolving that write retryable',
      { timeout: 90_000 },
      async () => {
        broker = await startOwnBroker();
        const address = broker.address;
        // The built-in client, wrapped to tell when a send is under way.
        let sending: () => void = () => undefined;
        const sendStarted = new Promise<void>((r) => (sending = r));
        const sink = createKafkaSink({
          topic: `lc-dead-shutdown-${client}-${run}`,
          requestTimeoutMs: 60_000,
          producer: () => {
            const inner =
              client === 'kafkajs'
                ? createKafkaJsProducer({
                    brokers: [address],
                    connectionTimeoutMs: 1000,
                  })
                : createRdKafkaProducer({
                    brokers: [address],
                    connectionTimeoutMs: 1000,
                    requestTimeoutMs: 60_000,
                  });
            return {
              connect: () => inner.connect(),
              disconnect: () => inner.disconnect(),
              send: (topic, messages, options) => {
                const sent = inner.send(topic, messages, options);
                if (messages.length > 1) sending();
                return sent;
              },
            };
          },
        });
        expect(await sink.write([rec(1)], { signal })).toEqual({
          status: 'success',
        });
        await broker.killAndWait();
        const inFlight = sink.write(
          Array.from({ length: 50 }, (_, i) => rec(i)),
          { signal },
        );
        await sendStarted;
        // Shutdown does not wait for the 60 s delivery timeout: librdkafka
        // gets 5 s to flush, then what it holds fails the write.
        await sink.shutdown();
        expect(await inFlight).toMatchObject({
          status: 'retryable',
          error: { code: 'LC_ERR_SINK_UNAVAILABLE' },
        });
        expect(await sink.write([rec(2)], { signal })).toMatchObject({
          status: 'failure',
          error: { code: 'LC_ERR_SHUT_DOWN' },
        });
      },
    );
  },
);
