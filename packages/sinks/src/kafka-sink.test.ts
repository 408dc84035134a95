import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describeSinkContract } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import type {
  KafkaOutgoingMessage,
  KafkaProducerLike,
  KafkaSendOptions,
  KafkaSendOutcome,
} from './kafka-producer.js';
import { createKafkaSink } from './kafka-sink.js';

const signal = new AbortController().signal;

interface Sent {
  topic: string;
  messages: readonly KafkaOutgoingMessage[];
  options: KafkaSendOptions;
}

/** A scriptable in-process producer: records sends, fails on demand. */
function fakeProducer(
  script: {
    fail?: (topic: string, call: number) => unknown;
    hang?: boolean;
    outcome?: (
      messages: readonly KafkaOutgoingMessage[],
    ) => KafkaSendOutcome | undefined;
  } = {},
) {
  const sent: Sent[] = [];
  const created: KafkaProducerLike[] = [];
  let calls = 0;
  let disconnects = 0;
  const factory = (): KafkaProducerLike => {
    const p: KafkaProducerLike = {
      connect: async () => {},
      async send(topic, messages, options) {
        const error = script.fail?.(topic, calls++);
        if (script.hang === true) await new Promise(() => {});
        if (error !== undefined) throw error;
        sent.push({ topic, messages, options });
        return script.outcome?.(messages);
      },
      disconnect: async () => {
        disconnects++;
      },
    };
    created.push(p);
    return p;
  };
  return { factory, sent, created, disconnects: () => disconnects };
}

function rec(
  line: string,
  labels: Record<string, string> = {},
  i = 0,
): LogRecord {
  return {
    line,
    labels: freezeLabels({ ...labels }),
    timestampMs: 1_700_000_000_000 + i,
    timestampNanos: 5,
    source: { kind: 'file', id: 'f' },
    cursor: { offset: i },
  };
}

describeSinkContract('kafka (fake producer)', () => {
  const fake = fakeProducer();
  return {
    sink: createKafkaSink({ topic: 'logs', producer: fake.factory }),
    readBack: async () =>
      fake.sent.flatMap((s) =>
        s.messages.map(
          (m) => (JSON.parse(m.value.toString()) as { line: string }).line,
        ),
      ),
  };
});

describe('createKafkaSink', () => {
  describe('options', () => {
    it('should require a topic and brokers or a producer', () => {
      expect(() => createKafkaSink({ topic: '' })).toThrow(/topic/);
      expect(() => createKafkaSink({ topic: 't' })).toThrow(/brokers/);
      expect(() =>
        createKafkaSink({ topic: 't', brokers: ['x:1'], acks: 2 as never }),
      ).toThrow(/acks/);
      expect(() =>
        createKafkaSink({ topic: 't', brokers: ['x:1'], compression: 'lz4' }),
      ).toThrow(/lz4/);
    });
  });

  describe('write', () => {
    it('should route by level and label, key by label and send dedup headers', async () => {
      const fake = fakeProducer();
      const sink = createKafkaSink({
        topic: 'logs',
        topicLabel: 'kafka_topic',
        topicByLevel: { error: 'logs-high' },
        keyLabel: 'tenant',
        producer: fake.factory,
        compression: 'gzip',
        format: 'text',
      });
      const batch = [
        rec('a', { level: 'ERROR', tenant: 't1' }, 0),
        rec('b', { kafka_topic: 'custom' }, 1),
        rec('c', {}, 2),
      ];
      expect(await sink.write(batch, { signal })).toEqual({
        status: 'success',
      });
      const byTopic = Object.fromEntries(
        fake.sent.map((s) => [s.topic, s.messages]),
      );
      expect(Object.keys(byTopic).sort()).toEqual([
        'custom',
        'logs',
        'logs-high',
      ]);
      const high = byTopic['logs-high']![0]!;
      expect(high.key?.toString()).toBe('t1');
      expect(high.value.toString()).toBe('a');
      expect(high.headers['lc-record-index']?.toString()).toBe('0');
      expect(
        byTopic['custom']![0]!.headers['lc-record-index']?.toString(),
      ).toBe('1');
      expect(byTopic['logs']![0]!.key).toBeNull();
      expect(fake.sent[0]!.options).toEqual({
        acks: -1,
        timeoutMs: 30_000,
        compression: 'gzip',
      });
      // Same batch again (a retry): same batch id and record ids.
      await sink.write(batch, { signal });
      const ids = fake.sent.map((s) => [
        s.topic,
        s.messages[0]!.headers['lc-batch-id']?.toString(),
        s.messages[0]!.headers['lc-record-id']?.toString(),
      ]);
      expect(ids.slice(3).sort()).toEqual(ids.slice(0, 3).sort());
    });

    it('should send only lc-record-id with dedupHeaders record_id, and none with none', async () => {
      const batch = [rec('a', {}, 0), rec('b', {}, 1)];
      const headersOf = async (dedupHeaders?: 'record_id' | 'none') => {
        const fake = fakeProducer();
        const sink = createKafkaSink({
          topic: 'logs',
          producer: fake.factory,
          ...(dedupHeaders === undefined ? {} : { dedupHeaders }),
        });
        expect(await sink.write(batch, { signal })).toEqual({
          status: 'success',
        });
        return fake.sent[0]!.messages.map((m) =>
          Object.fromEntries(
            Object.entries(m.headers).map(([k, v]) => [k, v.toString()]),
          ),
        );
      };
      const all = await headersOf();
      expect(await headersOf('record_id')).toEqual(
        all.map((h) => ({ 'lc-record-id': h['lc-record-id'] })),
      );
      expect(await headersOf('none')).toEqual([{}, {}]);
    });

    it('should refuse an unknown dedupHeaders naming the option', () => {
      expect(() =>
        createKafkaSink({
          topic: 'logs',
          producer: fakeProducer().factory,
          dedupHeaders: 'some' as 'all',
        }),
      ).toThrow(/dedupHeaders/);
    });

    it('should fail an oversize record alone', async () => {
      const fake = fakeProducer();
      const sink = createKafkaSink({
        topic: 'logs',
        producer: fake.factory,
        maxMessageBytes: 500,
      });
      const result = await sink.write(
        [rec('small'), rec('x'.repeat(1000)), rec('small2')],
        { signal },
      );
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
      expect(fake.sent[0]!.messages).toHaveLength(2);
    });

    it('should report a broker MESSAGE_TOO_LARGE as a permanent failure of that topic', async () => {
      const fake = fakeProducer({
        fail: (topic) =>
          topic === 'big'
            ? Object.assign(new Error('too large'), {
                type: 'MESSAGE_TOO_LARGE',
              })
            : undefined,
      });
      const sink = createKafkaSink({
        topic: 'logs',
        topicLabel: 't',
        producer: fake.factory,
      });
      const result = await sink.write([rec('a', { t: 'big' }), rec('b')], {
        signal,
      });
      expect(result).toMatchObject({
        status: 'partial',
        failed: [
          {
            index: 0,
            retryable: false,
            error: { code: 'LC_ERR_RECORD_TOO_LARGE' },
          },
        ],
      });
      expect(fake.created).toHaveLength(1);
    });

    it('should fail only the messages a per-message delivery report refused', async () => {
      // Index 1 too large for the broker (librdkafka code 10), index 3 timed
      // out in the client (-192): one permanent, one retryable.
      const fake = fakeProducer({
        outcome: () => ({
          failed: [
            {
              index: 1,
              error: Object.assign(
                new Error('Broker: Message size too large'),
                {
                  type: 'MESSAGE_TOO_LARGE',
                },
              ),
            },
            {
              index: 3,
              error: Object.assign(new Error('Local: Message timed out'), {
                code: -192,
              }),
            },
          ],
        }),
      });
      const sink = createKafkaSink({
        topic: 'logs',
        topicLabel: 't',
        producer: fake.factory,
      });
      // Index 0 goes to another topic: the report indexes are per send.
      const result = await sink.write(
        [rec('a', { t: 'other' }), rec('b'), rec('c'), rec('d'), rec('e')],
        { signal },
      );
      expect(result).toMatchObject({
        status: 'partial',
        failed: [
          {
            index: 2,
            retryable: false,
            error: { code: 'LC_ERR_RECORD_TOO_LARGE' },
          },
          {
            index: 4,
            retryable: true,
            error: { code: 'LC_ERR_SINK_UNAVAILABLE' },
          },
        ],
      });
      if (result.status === 'partial') expect(result.failed).toHaveLength(2);
    });

    it('should resolve retryable on a connection error and build a new producer next time', async () => {
      const fake = fakeProducer({
        fail: (_, call) =>
          call === 0
            ? Object.assign(
                new Error('Connection error: connect ECONNREFUSED'),
                { name: 'KafkaJSNonRetriableError', retriable: false },
              )
            : undefined,
      });
      const sink = createKafkaSink({ topic: 'logs', producer: fake.factory });
      expect(await sink.write([rec('a')], { signal })).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_SINK_UNAVAILABLE' },
      });
      expect(fake.disconnects()).toBe(1);
      expect(await sink.write([rec('a')], { signal })).toEqual({
        status: 'success',
      });
      expect(fake.created).toHaveLength(2);
    });

    it('should resolve retryable LC_ERR_ABORTED when aborted while the broker does not answer', async () => {
      const fake = fakeProducer({ hang: true });
      const sink = createKafkaSink({ topic: 'logs', producer: fake.factory });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      expect(
        await sink.write([rec('a')], { signal: controller.signal }),
      ).toMatchObject({
        status: 'retryable',
        error: { code: 'LC_ERR_ABORTED' },
      });
      await sink.shutdown();
    });
  });
});
