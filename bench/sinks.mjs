#!/usr/bin/env node
// @lc/sinks figures. Prints numbers; asserts nothing.
//
//   pnpm --filter "@lc/sinks..." build
//   node bench/sinks.mjs
//   LC_BENCH_FULL=1 node bench/sinks.mjs   (bigger runs)
//
// 1. Loki encode + snappy: 200-byte lines in 100 streams, batches of 10,000;
//    entries per CPU-second for the hand-written encoder and for protobufjs
//    8.8.1 (the same PushRequest schema), each followed by snappy.
// 2. Loki push end to end: createLokiSink -> createLokiTestServer (same
//    process; the server snappy-decodes and protobuf-decodes every push).
// 3. Kafka produce to the mock broker in .lc-services.env (acks=-1), for
//    each client (kafkajs; librdkafka when the optional module is
//    installed): records/s wall and records per CPU-second of this process
//    (librdkafka's threads included).
// 4. File sink JSON Lines, fsync 'never': records/s and MB/s.
// 5. OTLP: the hand-written ExportLogsServiceRequest encoder vs the official
//    protobufjs code (@opentelemetry/otlp-transformer 0.214.0, generated from
//    opentelemetry-proto) on the same records; then createOtlpSink → a
//    counting endpoint (official decode) for protobuf/JSON, gzip/none.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createFileSink,
  createKafkaSink,
  createLokiSink,
  createOtlpSink,
  librdkafkaStatus,
} from '../packages/sinks/dist/index.js';
import {
  createLokiTestServer,
  encodeExportLogsRequest,
  encodePushRequest,
} from '../packages/sinks/dist/testing/index.js';
import { createCountingOtlp } from './lib/otlp-endpoint.mjs';

const require = createRequire(
  new URL('../packages/sinks/package.json', import.meta.url),
);
const protobuf = require('protobufjs');
const { compressSync } = require('snappy');

const FULL = process.env.LC_BENCH_FULL === '1';
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const signal = new AbortController().signal;
const LINE = 'x'.repeat(150);

function makeRecords(n, streams = 100, t0 = Date.now()) {
  const labels = Array.from({ length: streams }, (_, i) =>
    Object.freeze({ job: 'bench', app: `app-${i}`, env: 'prod' }),
  );
  return Array.from({ length: n }, (_, i) => ({
    // 200 bytes: a 150-char body plus a varying prefix, padded.
    line: `${i} level=info msg="request served" path=/api/v1/items/${i % 977} ${LINE}`
      .slice(0, 200)
      .padEnd(200, '.'),
    labels: labels[i % streams],
    timestampMs: t0 + Math.floor(i / 10),
    timestampNanos: (i * 7919) % 1_000_000,
    source: { kind: 'file', id: `f${i % streams}` },
    cursor: { offset: i * 201, line: i },
  }));
}

function cpuSeconds(fn) {
  const start = process.cpuUsage();
  const wall = performance.now();
  fn();
  const used = process.cpuUsage(start);
  return {
    cpu: (used.user + used.system) / 1e6,
    wall: (performance.now() - wall) / 1000,
  };
}

// --- 1. encode + compress -------------------------------------------------
const root = protobuf.Root.fromJSON({
  nested: {
    PushRequest: {
      fields: { streams: { rule: 'repeated', type: 'StreamAdapter', id: 1 } },
    },
    StreamAdapter: {
      fields: {
        labels: { type: 'string', id: 1 },
        entries: { rule: 'repeated', type: 'EntryAdapter', id: 2 },
      },
    },
    EntryAdapter: {
      fields: {
        timestamp: { type: 'Timestamp', id: 1 },
        line: { type: 'string', id: 2 },
      },
    },
    Timestamp: {
      fields: {
        seconds: { type: 'int64', id: 1 },
        nanos: { type: 'int32', id: 2 },
      },
    },
  },
});
const PushRequest = root.lookupType('PushRequest');

function toStreams(batch) {
  const by = new Map();
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    const key = `{app="${r.labels.app}", env="prod", job="bench"}`;
    let list = by.get(key);
    if (!list) by.set(key, (list = []));
    list.push({
      timestampMs: r.timestampMs,
      timestampNanos: r.timestampNanos,
      line: r.line,
      index: i,
    });
  }
  return [...by].map(([labels, entries]) => ({ labels, entries }));
}

const BATCH = 10_000;
const ROUNDS = FULL ? 100 : 30;
const batch = makeRecords(BATCH);
const streams = toStreams(batch);
let wireBytes = 0;
let snappyBytes = 0;
const encodeHand = () => {
  for (let i = 0; i < ROUNDS; i++) {
    const raw = encodePushRequest(streams);
    wireBytes = raw.length;
    snappyBytes = compressSync(raw).length;
  }
};
const encodePbjs = () => {
  for (let i = 0; i < ROUNDS; i++) {
    const msg = {
      streams: streams.map((s) => ({
        labels: s.labels,
        entries: s.entries.map((e) => ({
          timestamp: {
            seconds: Math.floor(e.timestampMs / 1000),
            nanos: (e.timestampMs % 1000) * 1e6 + e.timestampNanos,
          },
          line: e.line,
        })),
      })),
    };
    compressSync(PushRequest.encode(PushRequest.create(msg)).finish());
  }
};
// Warm up both, then alternate three times and keep each one's best run:
// the machine is shared, so the best run is the least disturbed one.
encodeHand();
encodePbjs();
let hand = { cpu: Infinity, wall: Infinity };
let pbjs = { cpu: Infinity, wall: Infinity };
for (let r = 0; r < 3; r++) {
  const h = cpuSeconds(encodeHand);
  const p = cpuSeconds(encodePbjs);
  if (h.cpu < hand.cpu) hand = h;
  if (p.cpu < pbjs.cpu) pbjs = p;
}
const n = BATCH * ROUNDS;
console.log(
  `loki encode+snappy, best of 3 runs of ${fmt(n)} entries of 200 B in 100 streams (batches of ${fmt(BATCH)}):`,
);
console.log(
  `  hand-written encoder: ${fmt(n / hand.cpu)} entries/CPU-s (${fmt(n / hand.wall)} entries/s wall), ${fmt(wireBytes)} B -> ${fmt(snappyBytes)} B snappy per batch`,
);
console.log(
  `  protobufjs 8.8.1:     ${fmt(n / pbjs.cpu)} entries/CPU-s (${fmt(n / pbjs.wall)} entries/s wall)`,
);

// Full sink path without the network: grouping, labels, encode, snappy.
{
  const server = await createLokiTestServer();
  const sink = createLokiSink({ url: server.url });
  const records = makeRecords(BATCH);
  // Measure the sink's CPU including its own encode; the server's decode runs
  // in this process too, so this is a lower bound for the sink alone.
  const total = FULL ? 200_000 : 100_000;
  const start = process.cpuUsage();
  const wall = performance.now();
  for (let sent = 0; sent < total; sent += BATCH) {
    const result = await sink.write(
      records.map((r) => ({
        ...r,
        timestampNanos: (r.timestampNanos + sent) % 1_000_000,
      })),
      { signal },
    );
    if (result.status !== 'success') throw new Error(JSON.stringify(result));
    server.reset();
  }
  const used = process.cpuUsage(start);
  const secs = (performance.now() - wall) / 1000;
  console.log(
    `loki push end to end (sink + decoding test server, one process), ${fmt(total)} records in batches of ${fmt(BATCH)}:`,
  );
  console.log(
    `  ${fmt(total / secs)} records/s wall, ${fmt(total / ((used.user + used.system) / 1e6))} records/CPU-s (both sides)`,
  );
  await sink.shutdown();
  await server.close();
}

// --- 3. Kafka ------------------------------------------------------------
{
  let brokers;
  try {
    const env = readFileSync(
      new URL('../.lc-services.env', import.meta.url),
      'utf8',
    );
    brokers = /LC_KAFKA_BROKERS=(.*)/.exec(env)?.[1]?.trim();
  } catch {
    brokers = process.env.LC_KAFKA_BROKERS;
  }
  if (brokers === undefined) {
    console.log('kafka produce: skipped (no LC_KAFKA_BROKERS)');
  } else {
    const KBATCH = 1000;
    const total = FULL ? 200_000 : 50_000;
    const records = makeRecords(KBATCH);
    const native = librdkafkaStatus();
    const clients = native.available ? ['kafkajs', 'librdkafka'] : ['kafkajs'];
    if (!native.available)
      console.log(`kafka produce (librdkafka): skipped (${native.reason})`);
    for (const client of clients) {
      for (const compression of ['none', 'gzip', 'snappy']) {
        const sink = createKafkaSink({
          brokers: brokers.split(','),
          client,
          topic: `lc-bench-${client}-${compression}-${Date.now()}`,
          compression,
          format: 'text',
        });
        await sink.write(records.slice(0, 10), { signal });
        const wall = performance.now();
        const cpu0 = process.cpuUsage();
        for (let sent = 0; sent < total; sent += KBATCH) {
          const result = await sink.write(records, { signal });
          if (result.status !== 'success')
            throw new Error(JSON.stringify(result));
        }
        const secs = (performance.now() - wall) / 1000;
        const used = process.cpuUsage(cpu0);
        console.log(
          `kafka produce (${client}, ${compression}, acks=-1, batches of ${KBATCH}) to the mock broker: ${fmt(total / secs)} records/s, ${fmt(total / ((used.user + used.system) / 1e6))} records/CPU-s`,
        );
        await sink.shutdown();
      }
    }
  }
}

// --- 4. File sink --------------------------------------------------------
{
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-file-'));
  const FBATCH = 10_000;
  const total = FULL ? 5_000_000 : 1_000_000;
  for (const format of ['json', 'text']) {
    const sink = createFileSink({
      directory: dir,
      pathTemplate: `bench-${format}.log`,
      format,
      fsync: 'never',
    });
    const records = makeRecords(FBATCH, 1);
    const start = process.cpuUsage();
    const wall = performance.now();
    for (let sent = 0; sent < total; sent += FBATCH) {
      const result = await sink.write(records, { signal });
      if (result.status !== 'success') throw new Error(JSON.stringify(result));
    }
    await sink.shutdown();
    const secs = (performance.now() - wall) / 1000;
    const used = process.cpuUsage(start);
    const bytes = statSync(join(dir, `bench-${format}.log`)).size;
    console.log(
      `file sink ${format === 'json' ? 'JSON Lines' : 'text'}, fsync never, ${fmt(total)} records of 200 B (batches of ${fmt(FBATCH)}):`,
    );
    console.log(
      `  ${fmt(total / secs)} records/s, ${(bytes / 1024 / 1024 / secs).toFixed(1)} MB/s written, ${fmt(total / ((used.user + used.system) / 1e6))} records/CPU-s`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

// --- 5. OTLP ---------------------------------------------------------------
{
  const otelRoot = createRequire(
    new URL('../packages/test-utils/package.json', import.meta.url),
  )('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  const { ExportLogsServiceRequest } =
    otelRoot.opentelemetry.proto.collector.logs.v1;
  const records = makeRecords(BATCH);
  // As the sink maps them: job → resource service.name, app/env attributes
  // (one shared set per label object).
  const sets = new Map();
  const resource = { pairs: [['service.name', 'bench']] };
  const hand = [
    {
      resource,
      records: records.map((r) => {
        let shared = sets.get(r.labels);
        if (!shared) {
          shared = {
            pairs: [
              ['app', r.labels.app],
              ['env', r.labels.env],
            ],
          };
          sets.set(r.labels, shared);
        }
        return {
          timestampMs: r.timestampMs,
          timestampNanos: r.timestampNanos,
          line: r.line,
          lineBytes: Buffer.byteLength(r.line),
          severityNumber: 0,
          severityText: undefined,
          shared,
          own: undefined,
          traceId: undefined,
          spanId: undefined,
          flags: 0,
        };
      }),
    },
  ];
  const observed = { timestampMs: Date.now(), timestampNanos: 0 };
  const kv = (k, v) => ({ key: k, value: { stringValue: v } });
  let otlpBytes = 0;
  const encodeOtlpHand = () => {
    for (let i = 0; i < ROUNDS; i++)
      otlpBytes = encodeExportLogsRequest(hand, observed).length;
  };
  const observedNs = `${observed.timestampMs}000000`;
  const encodeOtlpOfficial = () => {
    for (let i = 0; i < ROUNDS; i++) {
      const msg = {
        resourceLogs: [
          {
            resource: { attributes: [kv('service.name', 'bench')] },
            scopeLogs: [
              {
                logRecords: records.map((r) => ({
                  timeUnixNano: `${r.timestampMs}${String(r.timestampNanos).padStart(6, '0')}`,
                  observedTimeUnixNano: observedNs,
                  body: { stringValue: r.line },
                  attributes: [
                    kv('app', r.labels.app),
                    kv('env', r.labels.env),
                  ],
                })),
              },
            ],
          },
        ],
      };
      ExportLogsServiceRequest.encode(
        ExportLogsServiceRequest.fromObject(msg),
      ).finish();
    }
  };
  encodeOtlpHand();
  encodeOtlpOfficial();
  let h = { cpu: Infinity, wall: Infinity };
  let o = { cpu: Infinity, wall: Infinity };
  for (let r = 0; r < 3; r++) {
    const a = cpuSeconds(encodeOtlpHand);
    const b = cpuSeconds(encodeOtlpOfficial);
    if (a.cpu < h.cpu) h = a;
    if (b.cpu < o.cpu) o = b;
  }
  const on = BATCH * ROUNDS;
  console.log(
    `otlp encode (no compression), best of 3 runs of ${fmt(on)} records of 200 B, 2 attributes, batches of ${fmt(BATCH)}:`,
  );
  console.log(
    `  hand-written encoder:        ${fmt(on / h.cpu)} records/CPU-s, ${fmt(otlpBytes)} B per batch`,
  );
  console.log(
    `  official protobufjs code (otlp-transformer 0.214, fromObject + encode): ${fmt(on / o.cpu)} records/CPU-s`,
  );

  const endpoint = await createCountingOtlp();
  const total = FULL ? 200_000 : 100_000;
  for (const [encoding, compression] of [
    ['protobuf', 'gzip'],
    ['protobuf', 'none'],
    ['json', 'gzip'],
  ]) {
    const sink = createOtlpSink({
      endpoint: endpoint.url,
      encoding,
      compression,
    });
    const wire0 = endpoint.state.wireBytes;
    const start = process.cpuUsage();
    const wall = performance.now();
    for (let sent = 0; sent < total; sent += BATCH) {
      const result = await sink.write(records, { signal });
      if (result.status !== 'success') throw new Error(JSON.stringify(result));
    }
    const used = process.cpuUsage(start);
    const secs = (performance.now() - wall) / 1000;
    console.log(
      `otlp push end to end (${encoding}, ${compression}; sink + official-decoding endpoint, one process), ${fmt(total)} records: ${fmt(total / secs)} records/s wall, ${fmt(total / ((used.user + used.system) / 1e6))} records/CPU-s (both sides), ${((endpoint.state.wireBytes - wire0) / total).toFixed(1)} B/record on the wire`,
    );
    await sink.shutdown();
  }
  await endpoint.close();
}
