#!/usr/bin/env node
// @lc/positions figures. Prints numbers; asserts nothing.
//
//   pnpm --filter @lc/positions build
//   node bench/positions.mjs
//   LC_BENCH_FULL=1 node bench/positions.mjs   (30 s sustained run)
//
// 1. Sustained 100,000 commits/s over 10,000 positions with the default
//    1 s flush to the JSON file store (fsync on): CPU %, flush latency p50/p99.
//    Run twice: positions without files (no offset markers), and 1,000 real
//    files whose offset markers are computed at every flush.
// 2. Flush of 10,000 changed positions to the JSON file store: time, bytes.
// 3. Startup load of 10,000 positions (store open + manager start).
// 4. Flush of 10,000 positions to Redis (when LC_REDIS_URL/.lc-services.env has one).
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createJsonFilePositionStore,
  createPositionManager,
  createRedisPositionStore,
} from '../packages/positions/dist/index.js';

const FULL = process.env.LC_BENCH_FULL === '1';
const fmt = (n, d = 1) => n.toFixed(d);
const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ??
  NaN;
const sortNum = (a) => [...a].sort((x, y) => x - y);

function filePosition(i, path = '') {
  return {
    kind: 'file',
    id: `2049:${100000 + i}`,
    path,
    dev: '2049',
    ino: String(100000 + i),
    fingerprint: 'ab'.repeat(16),
    fingerprintBytes: 1024,
    offset: 0,
    offsetMarker: '',
    size: 0,
    mtimeMs: 1_700_000_000_000,
    lastReadAtMs: 1_700_000_000_000,
    logCount: 0,
    bytesRead: 0,
    status: 'active',
    updatedAtMs: 1_700_000_000_000,
  };
}

/** Wrap a store to time each save. */
function timed(store) {
  const saves = [];
  return {
    saves,
    store: {
      ...store,
      async save(changes) {
        const t = performance.now();
        await store.save(changes);
        saves.push(performance.now() - t);
      },
    },
  };
}

async function sustained({ count, seconds, realFiles }) {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-pos-'));
  const files = [];
  if (realFiles > 0) {
    const { statSync: st } = await import('node:fs');
    for (let i = 0; i < realFiles; i++) {
      const path = join(dir, `f${i}.log`);
      writeFileSync(path, 'x'.repeat(64 * 1024));
      const s = st(path, { bigint: true });
      files.push({
        ...filePosition(i, path),
        id: `${s.dev}:${s.ino}`,
        dev: String(s.dev),
        ino: String(s.ino),
      });
    }
  }
  const { store, saves } = timed(
    createJsonFilePositionStore({ path: join(dir, 'positions.json') }),
  );
  const manager = createPositionManager({ store, flushIntervalMs: 1000 });
  await manager.start();
  const positions =
    files.length > 0
      ? files
      : Array.from({ length: count }, (_, i) => filePosition(i));
  for (const p of positions) manager.upsertFile(p);
  await manager.flush();
  saves.length = 0;
  const sources = positions.map((p) => ({ kind: 'file', id: p.id }));
  const offsets = new Array(positions.length).fill(0);
  const flushDurations = [];
  let seenFlushes = manager.stats().flushes;
  const rate = 100_000;
  const tickMs = 10;
  const perTick = (rate * tickMs) / 1000;
  let commits = 0;
  let k = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    // Paced to `rate`; a backlog above 0.2 s is dropped (and shows as a lower achieved rate).
    const due = Math.max(
      commits,
      Math.floor(((performance.now() - t0) / 1000) * rate) - rate / 5,
    );
    while (commits < due) {
      for (let j = 0; j < perTick && commits < due; j++, commits++) {
        const i = k++ % sources.length;
        offsets[i] += 1 + (commits % 200);
        manager.commit(sources[i], {
          offset: Math.min(offsets[i], 64 * 1024),
          line: commits,
        });
      }
    }
    const st = manager.stats();
    if (st.flushes !== seenFlushes) {
      seenFlushes = st.flushes;
      flushDurations.push(st.lastFlushDurationMs);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await manager.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const fl = sortNum(flushDurations);
  const sv = sortNum(saves);
  console.log(
    `sustained ${realFiles > 0 ? `${realFiles} real files (markers on)` : `${count} positions (no files)`}: ` +
      `${Math.round((commits / wallMs) * 1000).toLocaleString('en-US')} commits/s for ${fmt(wallMs / 1000)} s, ` +
      `CPU ${fmt(((cpu.user + cpu.system) / 1000 / wallMs) * 100)} % of one core, ` +
      `${fl.length} flushes: p50 ${fmt(pct(fl, 50))} ms, p99 ${fmt(pct(fl, 99))} ms, max ${fmt(fl.at(-1) ?? NaN)} ms ` +
      `(store.save p99 ${fmt(pct(sv, 99))} ms)`,
  );
}

async function flushBig() {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-pos-'));
  const path = join(dir, 'positions.json');
  const manager = createPositionManager({
    store: createJsonFilePositionStore({ path }),
    flushIntervalMs: 0,
  });
  await manager.start();
  for (let i = 0; i < 10_000; i++) manager.upsertFile(filePosition(i));
  const times = [];
  const cpus = [];
  for (let round = 1; round <= 20; round++) {
    for (let i = 0; i < 10_000; i++)
      manager.commit(
        { kind: 'file', id: `2049:${100000 + i}` },
        { offset: round * 1000 + i, line: round },
      );
    const c = process.cpuUsage();
    const t = performance.now();
    await manager.flush();
    times.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpus.push((u.user + u.system) / 1000);
  }
  const bytes = statSync(path).size;
  await manager.shutdown();
  const s = sortNum(times);
  console.log(
    `flush 10,000 changed positions (JSON, fsync, 3 backups): p50 ${fmt(pct(s, 50))} ms, p99/max ${fmt(s.at(-1))} ms, ` +
      `${(bytes / 1024 / 1024).toFixed(2)} MiB written per flush, CPU p50 ${fmt(pct(sortNum(cpus), 50))} ms`,
  );
  return { dir, path };
}

async function loadBig({ dir, path }) {
  const times = [];
  const cpus = [];
  for (let round = 0; round < 20; round++) {
    const c = process.cpuUsage();
    const t = performance.now();
    const manager = createPositionManager({
      store: createJsonFilePositionStore({ path }),
      flushIntervalMs: 0,
      closeStoreOnShutdown: true,
    });
    await manager.start();
    times.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpus.push((u.user + u.system) / 1000);
    if (manager.stats().positions !== 10_000)
      throw new Error('load lost positions');
    await manager.shutdown();
  }
  rmSync(dir, { recursive: true, force: true });
  const s = sortNum(times);
  console.log(
    `load 10,000 positions at startup: p50 ${fmt(pct(s, 50))} ms, max ${fmt(s.at(-1))} ms (first ${fmt(times[0])} ms), CPU p50 ${fmt(pct(sortNum(cpus), 50))} ms`,
  );
}

function redisUrl() {
  if (process.env.LC_REDIS_URL) return process.env.LC_REDIS_URL;
  const env = join(process.cwd(), '.lc-services.env');
  if (!existsSync(env)) return undefined;
  return /^LC_REDIS_URL=(.*)$/m.exec(readFileSync(env, 'utf8'))?.[1];
}

async function redisFlush() {
  const url = redisUrl();
  if (url === undefined) {
    console.log('redis: skipped (no LC_REDIS_URL)');
    return;
  }
  const namespace = `lc-bench:${process.pid}`;
  const store = createRedisPositionStore({ url, namespace });
  const manager = createPositionManager({ store, flushIntervalMs: 0 });
  await manager.start();
  for (let i = 0; i < 10_000; i++) manager.upsertFile(filePosition(i));
  const times = [];
  for (let round = 1; round <= 10; round++) {
    for (let i = 0; i < 10_000; i++)
      manager.commit(
        { kind: 'file', id: `2049:${100000 + i}` },
        { offset: round * 1000 + i, line: round },
      );
    const t = performance.now();
    await manager.flush();
    times.push(performance.now() - t);
  }
  const tl = performance.now();
  await store.load();
  const loadMs = performance.now() - tl;
  await store.save({
    upserts: [],
    deletes: (await store.load()).map((p) => `${p.kind}:${p.id}`),
  });
  await manager.shutdown();
  const s = sortNum(times);
  console.log(
    `redis: flush 10,000 changed positions (one MULTI/EXEC): p50 ${fmt(pct(s, 50))} ms, max ${fmt(s.at(-1))} ms; load 10,000: ${fmt(loadMs)} ms`,
  );
}

function commitCost() {
  const manager = createPositionManager({
    store: {
      load: async () => [],
      save: async () => {},
      backup: async () => ({ id: '', createdAtMs: 0 }),
      listBackups: async () => [],
      restore: async () => {},
      close: async () => {},
    },
    flushIntervalMs: 0,
  });
  for (let i = 0; i < 10_000; i++) manager.upsertFile(filePosition(i));
  const sources = Array.from({ length: 10_000 }, (_, i) => ({
    kind: 'file',
    id: `2049:${100000 + i}`,
  }));
  const n = 2_000_000;
  const cpu0 = process.cpuUsage();
  for (let c = 0; c < n; c++)
    manager.commit(sources[c % 10_000], { offset: c + 1, line: c });
  const cpu = process.cpuUsage(cpu0);
  const ns = ((cpu.user + cpu.system) * 1000) / n;
  console.log(
    `commit cost: ${fmt(ns, 0)} ns CPU per commit (=> ${fmt((ns * 100_000) / 1e7, 1)} % of a core at 100,000 commits/s, before flushing)`,
  );
}

commitCost();
await sustained({ count: 10_000, seconds: FULL ? 30 : 10, realFiles: 0 });
await sustained({ count: 1_000, seconds: FULL ? 30 : 10, realFiles: 1_000 });
const big = await flushBig();
await loadBig(big);
await redisFlush();
