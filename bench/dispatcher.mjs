#!/usr/bin/env node
// Dispatcher throughput and outage figures. Prints numbers; asserts nothing.
//
//   pnpm --filter "@lc/dispatcher..." --filter "@lc/persistence..." build
//   node --expose-gc bench/dispatcher.mjs
//   LC_BENCH_FULL=1 node bench/dispatcher.mjs   (60 s outage, more records)
//
// 1. Throughput to a no-op sink with 200-byte records, persistence off and on
//    (@lc/persistence WAL, fsync 'always' = one fsync per batch group commit):
//    records/s and CPU-seconds per million records.
// 2. The outage scenario: a sink down for a while at 20,000 records/s:
//    peak RSS, records held at most, and time to catch up after recovery.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LcError } from '../packages/core/dist/index.js';
import { createDispatcher } from '../packages/dispatcher/dist/index.js';
import { createBatchPersistence } from '../packages/persistence/dist/index.js';

const FULL = process.env.LC_BENCH_FULL === '1';
const fmt = (n) => Math.round(n).toLocaleString('en-US');

function makeRecords(count, sources) {
  const labels = Object.freeze({ app: 'bench', env: 'prod' });
  const refs = Array.from({ length: sources }, (_, i) =>
    Object.freeze({ kind: 'file', id: `f${i}` }),
  );
  const records = [];
  for (let i = 0; i < count; i++) {
    const n = i + 1;
    const line =
      `${String(n).padStart(10, '0')} ${'lorem ipsum dolor sit amet '.repeat(8)}`.slice(
        0,
        200,
      );
    records.push({
      line,
      labels,
      timestampMs: 1_700_000_000_000 + n,
      timestampNanos: 0,
      source: refs[i % sources],
      cursor: { offset: n * 201, line: n },
    });
  }
  return records;
}

const noopSink = (name = 'noop') => ({
  name,
  write: async () => ({ status: 'success' }),
  flush: async () => {},
  shutdown: async () => {},
});

async function throughput(label, total, extra) {
  const pool = makeRecords(100_000, 4);
  let commits = 0;
  const dispatcher = createDispatcher({
    sinks: [noopSink()],
    committer: { commit: () => commits++ },
    batchMaxRecords: 2000,
    batchMaxBytes: 4 * 1024 * 1024,
    maxQueueRecords: 200_000,
    maxQueueBytes: 256 * 1024 * 1024,
    workers: 4,
    sinkOptions: { noop: { ordering: 'none' } },
    ...extra,
  });
  await dispatcher.start();
  globalThis.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const chunk = 1000;
  for (let sent = 0; sent < total; sent += chunk) {
    const from = sent % pool.length;
    if (!dispatcher.dispatchMany(pool.slice(from, from + chunk)))
      await dispatcher.whenWritable();
  }
  await dispatcher.flush();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  await dispatcher.shutdown();
  console.log(
    `${label.padEnd(34)} ${fmt(total / wallS).padStart(11)} records/s  ${(cpuS / (total / 1e6)).toFixed(2)} CPU-s per million  (${fmt(total)} records in ${wallS.toFixed(2)} s, ${commits} commits)`,
  );
}

async function outage() {
  const outageMs = FULL ? 60_000 : 10_000;
  const rate = 20_000;
  const produceMs = outageMs + 5_000;
  const total = Math.round((rate * produceMs) / 1000);
  const t0 = performance.now();
  let delivered = 0;
  const sink = {
    name: 'remote',
    write: async (batch) => {
      if (performance.now() - t0 < outageMs) {
        return {
          status: 'retryable',
          error: new LcError({
            code: 'LC_ERR_SINK_UNAVAILABLE',
            message: 'down',
          }),
        };
      }
      delivered += batch.length;
      return { status: 'success' };
    },
    flush: async () => {},
    shutdown: async () => {},
  };
  const dispatcher = createDispatcher({
    sinks: [sink],
    maxQueueRecords: 50_000,
    batchMaxRecords: 1000,
    batchTimeoutMs: 200,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
    circuit: { failureThreshold: 5, openMs: 500 },
  });
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let maxQueued = 0;
  let caughtUpMs;
  let produced = 0;
  const sampler = setInterval(() => {
    const elapsed = performance.now() - t0;
    if (
      caughtUpMs === undefined &&
      elapsed > outageMs &&
      (elapsed * rate) / 1000 - produced < rate / 20 &&
      dispatcher.stats().queuedRecords < 10_000
    ) {
      caughtUpMs = elapsed - outageMs;
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    maxQueued = Math.max(maxQueued, dispatcher.stats().queuedRecords);
  }, 50);
  const labels = Object.freeze({ app: 'outage' });
  const source = Object.freeze({ kind: 'file', id: 'outage' });
  const pad = 'x'.repeat(190);
  while (produced < total) {
    const target = Math.min(
      total,
      Math.round(((performance.now() - t0) * rate) / 1000),
    );
    while (produced < target) {
      produced++;
      const ok = dispatcher.dispatch({
        line: `${produced} ${pad}`,
        labels,
        timestampMs: Date.now(),
        timestampNanos: 0,
        source,
        cursor: { offset: produced, line: produced },
      });
      if (!ok) await dispatcher.whenWritable();
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await dispatcher.flush();
  const drainedMs = performance.now() - t0 - outageMs;
  clearInterval(sampler);
  const stats = dispatcher.stats();
  await dispatcher.shutdown();
  console.log(
    `outage ${outageMs / 1000} s at ${fmt(rate)}/s: ${fmt(delivered)}/${fmt(total)} delivered, peak RSS ${fmt(peak / 1048576)} MiB (baseline ${fmt(baseline / 1048576)} MiB), ` +
      `max held ${fmt(maxQueued)} records, caught up ${caughtUpMs === undefined ? 'never' : `${(caughtUpMs / 1000).toFixed(2)} s`} after recovery (backlog delivered, producer back to real time), all flushed ${(drainedMs / 1000).toFixed(2)} s after, backpressure ${(stats.backpressureMs / 1000).toFixed(1)} s`,
  );
}

// The outage first, so its RSS baseline is not inflated by the other runs.
await outage();
const total = FULL ? 10_000_000 : 3_000_000;
await throughput('no-op sink, persistence off', total, {});
const dir = mkdtempSync(join(tmpdir(), 'lc-bench-dispatcher-'));
try {
  const batchStore = await createBatchPersistence({
    directory: dir,
    fsync: 'always',
    maxPendingBytes: 1024 * 1024 * 1024,
  });
  await throughput(
    'no-op sink, persistence on (fsync)',
    FULL ? 3_000_000 : 1_000_000,
    { batchStore },
  );
  await batchStore.shutdown();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
