#!/usr/bin/env node
// @lc/persistence figures. Prints numbers; asserts nothing.
//
//   pnpm --filter "@lc/persistence..." build
//   node --expose-gc bench/persistence.mjs
//   LC_BENCH_FULL=1 node bench/persistence.mjs   (bigger backlog)
//
// 1. Record codec: encodeRecords/decodeRecords of 200-byte records in
//    batches of 500, next to JSON.stringify/JSON.parse of the same batch.
// 2. persist + markDelivered (the dispatcher's path, one sink) with 8
//    batches in flight, for fsync 'always' and 'interval': batches/s,
//    records/s, MB/s of WAL.
// 3. Recovery: open a WAL holding N unsettled batches (state rebuild) and
//    stream them out with recover(): time to open, time to first batch,
//    records/s, peak RSS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createBatchPersistence,
  decodeRecords,
  encodeRecords,
} from '../packages/persistence/dist/index.js';

const FULL = process.env.LC_BENCH_FULL === '1';
const BATCH_RECORDS = 500;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

function makeRecords(count, offset = 0) {
  const labels = Object.freeze({ app: 'bench', env: 'prod', host: 'node-1' });
  const source = Object.freeze({ kind: 'file', id: '2049:131' });
  const out = [];
  for (let i = 0; i < count; i++) {
    const n = offset + i + 1;
    out.push({
      line: `${String(n).padStart(10, '0')} ${'lorem ipsum dolor sit amet '.repeat(8)}`.slice(
        0,
        200,
      ),
      labels,
      timestampMs: 1_700_000_000_000 + n,
      timestampNanos: (n * 7919) % 1_000_000,
      source,
      cursor: { offset: n * 201, line: n },
    });
  }
  return out;
}

function codec() {
  const batch = makeRecords(BATCH_RECORDS);
  const rounds = FULL ? 2000 : 400;
  const time = (fn) => {
    for (let i = 0; i < 20; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const encoded = encodeRecords(batch);
  const json = JSON.stringify(batch);
  const enc = time(() => encodeRecords(batch));
  const dec = time(() => decodeRecords(encoded));
  const jenc = time(() => JSON.stringify(batch));
  const jdec = time(() => JSON.parse(json));
  const recs = rounds * BATCH_RECORDS;
  console.log('1. record codec (200-byte lines, batches of 500)');
  console.log(
    `   encoded size: ${fmt(encoded.length)} B/batch (JSON: ${fmt(Buffer.byteLength(json))} B)`,
  );
  console.log(
    `   encodeRecords: ${fmt(recs / enc)} records/s   JSON.stringify: ${fmt(recs / jenc)} records/s`,
  );
  console.log(
    `   decodeRecords: ${fmt(recs / dec)} records/s   JSON.parse:     ${fmt(recs / jdec)} records/s`,
  );
}

async function persistSettle(fsync) {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-persistence-'));
  const p = await createBatchPersistence({ directory: dir, fsync });
  const batches = FULL ? 4000 : 1000;
  const inFlight = 8;
  const records = makeRecords(BATCH_RECORDS);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < batches) {
      const id = `b${next++}`;
      await p.persist({
        id,
        records,
        sinks: ['loki'],
        createdAtMs: Date.now(),
      });
      await p.markDelivered(id, 'loki');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const s = (performance.now() - t0) / 1000;
  const bytes = encodeRecords(records).length * batches;
  console.log(
    `   fsync=${fsync.padEnd(8)} ${fmt(batches / s)} batches/s, ${fmt((batches * BATCH_RECORDS) / s)} records/s, ${mb(bytes / s)} MB/s of WAL (${batches} batches, ${s.toFixed(2)} s)`,
  );
  await p.shutdown();
  rmSync(dir, { recursive: true, force: true });
}

async function recovery() {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-persistence-'));
  const batches = FULL ? 4000 : 800;
  let p = await createBatchPersistence({
    directory: dir,
    fsync: 'never',
    maxPendingBatches: batches + 1,
    maxPendingBytes: 4 * 1024 ** 3,
  });
  const records = makeRecords(BATCH_RECORDS);
  for (let i = 0; i < batches; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, batches - i) }, (_, k) =>
        p.persist({
          id: `b${i + k}`,
          records,
          sinks: ['loki'],
          createdAtMs: Date.now(),
        }),
      ),
    );
  }
  await p.shutdown();
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const t0 = performance.now();
  p = await createBatchPersistence({
    directory: dir,
    fsync: 'never',
    maxPendingBatches: batches + 1,
    maxPendingBytes: 4 * 1024 ** 3,
  });
  const opened = performance.now() - t0;
  let first = 0;
  let n = 0;
  let recs = 0;
  for await (const b of p.recover()) {
    if (n === 0) first = performance.now() - t0;
    n++;
    recs += b.records.length;
  }
  const total = (performance.now() - t0) / 1000;
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  const walBytes = encodeRecords(records).length * batches;
  console.log(
    `3. recovery of ${fmt(n)} unsettled batches (${fmt(recs)} records, ${mb(walBytes)} MB of WAL)`,
  );
  console.log(
    `   open (state rebuild): ${opened.toFixed(0)} ms; first batch at ${first.toFixed(0)} ms; all in ${total.toFixed(2)} s = ${fmt(recs / total)} records/s`,
  );
  console.log(`   RSS before open ${mb(rss0)} MB, peak ${mb(peak)} MB`);
  await p.shutdown();
  rmSync(dir, { recursive: true, force: true });
}

codec();
console.log(
  '2. persist + markDelivered, 8 batches in flight, 500 records/batch',
);
await persistSettle('always');
await persistSettle('interval');
await recovery();
