import { hash } from 'node:crypto';
import { LcError } from '@lc/core';
import type { LogRecord, RecordFailure } from '@lc/core';
import type { KafkaOutgoingMessage } from '../kafka-producer.js';
import { recordId } from './kafka-errors.js';

/** The messages of one topic, with the batch index of each. */
export interface KafkaTopicGroup {
  readonly indexes: number[];
  readonly messages: KafkaOutgoingMessage[];
}

/** How {@link kafkaMessages} turns records into messages. */
export interface KafkaMessageSettings {
  readonly sink: string;
  readonly format: (record: LogRecord) => string;
  readonly topicOf: (record: LogRecord) => string;
  readonly keyLabel: string | undefined;
  readonly maxMessageBytes: number;
}

// Record batch overhead per message is ~70 bytes plus header names.
const MESSAGE_OVERHEAD_BYTES = 120;

// `lc-record-index` values, shared across batches (read-only: clients copy
// header values into the request).
const indexHeaders: Buffer[] = [];
const MAX_CACHED_INDEX = 100_000;

function indexHeader(i: number): Buffer {
  if (i >= MAX_CACHED_INDEX) return Buffer.from(String(i));
  let b = indexHeaders[i];
  if (b === undefined) {
    b = Buffer.from(String(i));
    indexHeaders[i] = b;
  }
  return b;
}

/**
 * One message per record, grouped by topic, with the dedup headers
 * (`lc-batch-id`, `lc-record-index`, `lc-record-id`); records too big for
 * `maxMessageBytes` become permanent failures instead.
 */
export function kafkaMessages(
  batch: readonly LogRecord[],
  settings: KafkaMessageSettings,
): { groups: Map<string, KafkaTopicGroup>; failures: RecordFailure[] } {
  const failures: RecordFailure[] = [];
  const ids = batch.map(recordId);
  const batchIdHeader = Buffer.from(
    hash(
      'sha1',
      `${batch.length}\u0000${ids[0]}\u0000${ids[ids.length - 1]}`,
      'base64url',
    ).slice(0, 22),
  );
  const groups = new Map<string, KafkaTopicGroup>();
  const { keyLabel, maxMessageBytes, sink } = settings;
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i] as LogRecord;
    const keyText =
      keyLabel === undefined ? undefined : record.labels[keyLabel];
    const message: KafkaOutgoingMessage = {
      key: keyText === undefined ? null : Buffer.from(keyText),
      value: Buffer.from(settings.format(record)),
      headers: {
        'lc-batch-id': batchIdHeader,
        'lc-record-index': indexHeader(i),
        'lc-record-id': Buffer.from(ids[i] as string),
      },
      timestamp: String(record.timestampMs),
    };
    const size =
      message.value.length +
      (message.key?.length ?? 0) +
      MESSAGE_OVERHEAD_BYTES;
    if (size > maxMessageBytes) {
      failures.push({
        index: i,
        retryable: false,
        error: new LcError({
          code: 'LC_ERR_RECORD_TOO_LARGE',
          message: `sink "${sink}": record ${i} is ${size} bytes as a message, over maxMessageBytes (${maxMessageBytes})`,
          details: { sink, size, maxMessageBytes },
        }),
      });
      continue;
    }
    const topic = settings.topicOf(record);
    const group = groups.get(topic);
    if (group === undefined)
      groups.set(topic, { indexes: [i], messages: [message] });
    else {
      group.indexes.push(i);
      group.messages.push(message);
    }
  }
  return { groups, failures };
}
