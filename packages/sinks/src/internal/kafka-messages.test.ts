import { fc, test } from '@fast-check/vitest';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { describe, expect, it } from 'vitest';
import type { KafkaOutgoingMessage } from '../kafka-producer.js';
import type { KafkaDedupHeaders } from '../kafka-sink.js';
import { recordId } from './kafka-errors.js';
import {
  kafkaMessages,
  rdKafkaHeadersOf,
  timestampMsOf,
} from './kafka-messages.js';

const arbRecord: fc.Arbitrary<LogRecord> = fc.record({
  line: fc.string({ maxLength: 60 }),
  labels: fc
    .dictionary(fc.constantFrom('tenant', 'level'), fc.string())
    .map((l) => freezeLabels(l)),
  timestampMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  timestampNanos: fc.integer({ min: 0, max: 999_999 }),
  source: fc.record({ kind: fc.constant('file'), id: fc.string() }),
  cursor: fc.record({ offset: fc.nat(), line: fc.nat() }),
});

function settings(dedupHeaders: KafkaDedupHeaders) {
  return {
    sink: 'k',
    format: (r: LogRecord) => r.line,
    topicOf: () => 't',
    keyLabel: 'tenant',
    maxMessageBytes: 1_000_000,
    dedupHeaders,
  };
}

/** The binding's header form flattened back to a name → value map. */
function flatten(message: KafkaOutgoingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of rdKafkaHeadersOf(message)) {
    const names = Object.keys(h);
    expect(names).toHaveLength(1); // the binding reads one key per object
    out[names[0]!] = h[names[0]!]!.toString();
  }
  return out;
}

const strings = (headers: Readonly<Record<string, Buffer>>) =>
  Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, v.toString()]),
  );

describe('kafkaMessages', () => {
  test.prop([
    fc.array(arbRecord, { minLength: 1, maxLength: 30 }),
    fc.constantFrom<KafkaDedupHeaders>('all', 'record_id', 'none'),
  ])(
    'should give librdkafka the same headers and timestamp that kafkajs reads',
    (batch, dedup) => {
      const { groups } = kafkaMessages(batch, settings(dedup));
      const messages = groups.get('t')!.messages;
      expect(messages).toHaveLength(batch.length);
      messages.forEach((m, i) => {
        const record = batch[i]!;
        expect(flatten(m)).toEqual(strings(m.headers));
        expect(timestampMsOf(m)).toBe(record.timestampMs);
        expect(m.timestamp).toBe(String(record.timestampMs));
        expect(m.value.toString()).toBe(record.line);
        const key = record.labels['tenant'];
        expect(m.key?.toString()).toBe(key);
        const names = Object.keys(m.headers).sort();
        if (dedup === 'none') expect(names).toEqual([]);
        else if (dedup === 'record_id') expect(names).toEqual(['lc-record-id']);
        else
          expect(names).toEqual([
            'lc-batch-id',
            'lc-record-id',
            'lc-record-index',
          ]);
        if (dedup !== 'none')
          expect(m.headers['lc-record-id']!.toString()).toBe(recordId(record));
        if (dedup === 'all')
          expect(m.headers['lc-record-index']!.toString()).toBe(String(i));
      });
    },
  );

  it('should keep the batch id of a batch across calls (a retry)', () => {
    const batch = [0, 1, 2].map((i) => ({
      line: `l${i}`,
      labels: freezeLabels({}),
      timestampMs: i,
      timestampNanos: 0,
      source: { kind: 'file', id: 'f' },
      cursor: { offset: i },
    }));
    const batchId = () =>
      kafkaMessages(batch, settings('all'))
        .groups.get('t')!
        .messages.map((m) => m.headers['lc-batch-id']!.toString());
    const first = batchId();
    expect(new Set(first).size).toBe(1);
    expect(first[0]).toMatch(/^[\w-]{22}$/);
    expect(batchId()).toEqual(first);
  });
});

describe('rdKafkaHeadersOf', () => {
  it('should convert the headers of a message built elsewhere', () => {
    const message: KafkaOutgoingMessage = {
      key: null,
      value: Buffer.from('v'),
      headers: { a: Buffer.from('1'), b: Buffer.from('2') },
      timestamp: '42',
    };
    expect(flatten(message)).toEqual({ a: '1', b: '2' });
    expect(timestampMsOf(message)).toBe(42);
  });
});
