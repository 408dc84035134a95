#!/usr/bin/env node
// @lc/monitors FileMonitor figures. Prints numbers; asserts nothing.
//
//   (cd packages/core && npx tsup) && (cd packages/positions && npx tsup) && (cd packages/monitors && npx tsup)
//   node bench/file-monitor.mjs
//   LC_BENCH_FULL=1 node bench/file-monitor.mjs   (2,000,000 lines; 60 s idle and latency phases)
//
// 1. Throughput: one file of ~160-byte lines (bench/corpus.mjs) read into a
//    no-op intake with a no-op position tracker: the monitor alone.
//    Lines/s (wall) and lines per CPU-second of this process.
// 2. 10,000 idle files (100 directories x 100): after every file was read
//    once, CPU % of one core at steady state, RSS and open descriptors.
// 3. 100 files each written at 1,000 lines/s by a separate writer process;
//    CPU % of the monitor process and write→emit latency p50/p99.
import { fork } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
  openSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileMonitor } from '../packages/monitors/dist/index.js';
import { writeCorpus } from './corpus.mjs';

const FULL = process.env.LC_BENCH_FULL === '1';
const N = FULL ? 2_000_000 : 500_000;
const IDLE_FILES = 10_000;
const IDLE_SECONDS = FULL ? 60 : 15;
const LIVE_FILES = 100;
const LIVE_RATE = 1000;
const LIVE_SECONDS = FULL ? 60 : 15;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuSeconds = (u) => (u.user + u.system) / 1e6;
const openFds = () => readdirSync('/proc/self/fd').length;

/** Positions that remember nothing: measures the monitor alone. */
const noPositions = {
  get: () => undefined,
  list: () => [],
  upsertFile: () => undefined,
  reset: () => undefined,
};

function countingIntake(onRecords = () => undefined) {
  const intake = {
    count: 0,
    dispatch(r) {
      return intake.dispatchMany([r]);
    },
    dispatchMany(records) {
      intake.count += records.length;
      onRecords(records);
      return true;
    },
    whenWritable: () => Promise.resolve(),
  };
  return intake;
}

async function throughput(dir) {
  const path = join(dir, 'big.log');
  writeCorpus(path, N);
  const intake = countingIntake();
  const monitor = createFileMonitor({
    intake,
    positions: noPositions,
    include: [path],
    watch: false,
    pollIntervalMs: 1,
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await monitor.start();
  while (intake.count < N) await sleep(1);
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = cpuSeconds(process.cpuUsage(cpu0));
  await monitor.shutdown();
  console.log(
    `throughput: ${fmt(N)} lines (${fmt((N * 160) / 1e6)} MB) in ${wallS.toFixed(2)} s wall, ${cpuS.toFixed(2)} CPU-s → ` +
      `${fmt(N / wallS)} lines/s, ${fmt(N / cpuS)} lines per CPU-second`,
  );
}

async function idle(dir) {
  for (let d = 0; d < IDLE_FILES / 100; d++) {
    const sub = join(dir, `d${d}`);
    mkdirSync(sub);
    for (let f = 0; f < 100; f++)
      writeFileSync(join(sub, `f${f}.log`), `idle file ${d}/${f}\n`);
  }
  const intake = countingIntake();
  const fds0 = openFds();
  const monitor = createFileMonitor({
    intake,
    positions: noPositions,
    include: [`${dir}/**/*.log`],
  });
  const t0 = performance.now();
  await monitor.start();
  while (intake.count < IDLE_FILES) await sleep(10);
  const discoverS = (performance.now() - t0) / 1000;
  await sleep(2000);
  globalThis.gc?.();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const cpuPct =
    (cpuSeconds(process.cpuUsage(cpu0)) / ((performance.now() - w0) / 1000)) *
    100;
  const rssMb = process.memoryUsage().rss / 1e6;
  const fds = openFds() - fds0;
  const status = monitor.status();
  await monitor.shutdown();
  console.log(
    `idle: ${fmt(IDLE_FILES)} files read once in ${discoverS.toFixed(2)} s; steady state over ${IDLE_SECONDS} s: ` +
      `CPU ${cpuPct.toFixed(2)} % of one core, RSS ${rssMb.toFixed(0)} MB, +${fds} fds ` +
      `(${status.filter((s) => s.open).length} files open, budget 1024)`,
  );
}

async function live(dir) {
  const paths = [];
  for (let i = 0; i < LIVE_FILES; i++) {
    const p = join(dir, `live-${i}.log`);
    writeFileSync(p, '');
    paths.push(p);
  }
  const latencies = [];
  const intake = countingIntake((records) => {
    const now = Date.now();
    for (const r of records) {
      const sp = r.line.indexOf(' ');
      latencies.push(now - Number(r.line.slice(0, sp)));
    }
  });
  const monitor = createFileMonitor({
    intake,
    positions: noPositions,
    include: [`${dir}/live-*.log`],
  });
  await monitor.start();
  const writer = fork(fileURLToPath(import.meta.url), [
    '--writer',
    dir,
    String(LIVE_FILES),
    String(LIVE_RATE),
    String(LIVE_SECONDS),
  ]);
  await sleep(1000);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  latencies.length = 0;
  await new Promise((r) => writer.once('exit', r));
  const cpuPct =
    (cpuSeconds(process.cpuUsage(cpu0)) / ((performance.now() - w0) / 1000)) *
    100;
  await sleep(500);
  await monitor.shutdown();
  latencies.sort((a, b) => a - b);
  const q = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  console.log(
    `live: ${LIVE_FILES} files x ${fmt(LIVE_RATE)} lines/s for ${LIVE_SECONDS} s: ${fmt(intake.count)} lines, ` +
      `monitor CPU ${cpuPct.toFixed(1)} % of one core, latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`,
  );
}

/** Writer process for the live phase: each file gets `rate` lines/s in 10 ms steps. */
function writerMain([dir, files, rate, seconds]) {
  const fds = [];
  for (let i = 0; i < Number(files); i++)
    fds.push(openSync(join(dir, `live-${i}.log`), 'a'));
  const perStep = Number(rate) / 100;
  const end = Date.now() + Number(seconds) * 1000;
  const pad = 'x'.repeat(140);
  let due = Date.now();
  const step = () => {
    if (Date.now() >= end) process.exit(0);
    for (const fd of fds) {
      let s = '';
      for (let k = 0; k < perStep; k++) s += `${Date.now()} ${pad}\n`;
      writeSync(fd, s);
    }
    due += 10;
    setTimeout(step, Math.max(0, due - Date.now()));
  };
  step();
}

if (process.argv[2] === '--writer') {
  writerMain(process.argv.slice(3));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-file-'));
  try {
    console.log(
      `node ${process.version}, ${FULL ? 'full' : 'short (LC_BENCH_FULL=1 for full size)'}`,
    );
    await throughput(
      mkdirSync(join(dir, 't'), { recursive: true }) ?? join(dir, 't'),
    );
    await idle(
      mkdirSync(join(dir, 'i'), { recursive: true }) ?? join(dir, 'i'),
    );
    await live(
      mkdirSync(join(dir, 'l'), { recursive: true }) ?? join(dir, 'l'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
