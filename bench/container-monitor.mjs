#!/usr/bin/env node
// @lc/monitors ContainerMonitor figures against the real Docker engine.
// Prints numbers; asserts nothing.
//
//   (cd packages/monitors && npx tsup)      # build dist first
//   node bench/container-monitor.mjs
//   LC_BENCH_FULL=1 node bench/container-monitor.mjs  (5M lines; 10-minute soak, 1-min rotation)
//
// 1. Throughput: one container writes N lines as fast as it can. Once it has
//    exited, the same log is read (a) by `docker logs` (the engine's own
//    limit, Go CLI, output discarded), (b) as a raw HTTP body drained by Node
//    without parsing, and (c) by the ContainerMonitor into a counting intake.
// 2. Live: the monitor follows a container while it writes as fast as it can.
// 3. Soak: 50 containers x 200 lines/s with stream rotation; CPU %, RSS,
//    open fds and active handles over time; lines lost and duplicated.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import Dockerode from '../packages/monitors/node_modules/dockerode/lib/docker.js';
import { createContainerMonitor } from '../packages/monitors/dist/index.js';

const FULL = process.env.LC_BENCH_FULL === '1';
const SOCKET = process.env.LC_DOCKER_SOCKET ?? '/var/run/docker.sock';
const IMAGE = process.env.LC_DOCKER_TEST_IMAGE ?? 'lc-test/busybox';
const N = FULL ? 5_000_000 : 1_000_000;
const SOAK_CONTAINERS = 50;
const SOAK_RATE = 200;
const SOAK_SECONDS = FULL ? 600 : 30;
const SOAK_ROTATION_MS = FULL ? 60_000 : 10_000;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const docker = new Dockerode({ socketPath: SOCKET });
const caseId = `bench-${process.pid}`;
const created = [];

async function run(cmd, start = true) {
  const c = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['sh', '-c', cmd],
    Labels: { 'lc-test': 'monitors', 'lc-case': caseId },
    HostConfig: { NetworkMode: 'none' },
  });
  created.push(c);
  if (start) await c.start();
  return c;
}

function countingIntake() {
  const state = { count: 0, seen: new Map(), dups: 0, track: false };
  const take = (r) => {
    state.count++;
    if (state.track) {
      const key = `${r.source.id}\n${r.line}`;
      if (state.seen.has(key)) state.dups++;
      else state.seen.set(key, 1);
    }
  };
  return {
    state,
    dispatch(r) {
      take(r);
      return true;
    },
    dispatchMany(rs) {
      for (const r of rs) take(r);
      return true;
    },
    whenWritable: () => Promise.resolve(),
  };
}

// A saved position 1 ns after the epoch: the monitor treats the exited
// container as one to catch up on and reads its whole log.
const positions = {
  get: (kind, id) => ({
    kind,
    id,
    name: '',
    image: '',
    lastTimestampNs: '1',
    lastLineHash: '',
    linesAtLastTimestamp: 0,
    logCount: 0,
    bytesRead: 0,
    status: 'stopped',
    updatedAtMs: 0,
  }),
  upsertContainer() {},
  remove() {},
};

async function monitorRead(intake, until, extra = {}) {
  const monitor = createContainerMonitor({
    intake,
    positions,
    docker,
    filters: { includeLabels: [`lc-case=${caseId}`], ...extra.filters },
    ...extra,
  });
  const t0 = performance.now();
  await monitor.start();
  while (!until()) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t0;
  await monitor.shutdown();
  return ms;
}

function rawHttpDrain(id) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    http
      .get(
        {
          socketPath: SOCKET,
          path: `/containers/${id}/logs?stdout=1&stderr=1&timestamps=1`,
        },
        (res) => {
          res.on('data', (c) => (bytes += c.length));
          res.on('end', () => resolve({ ms: performance.now() - t0, bytes }));
        },
      )
      .on('error', reject);
  });
}

async function throughput() {
  const line = 'x'.repeat(90);
  const c = await run(`yes ${line} | head -n ${N} | awk '{print NR " " $0}'`);
  await c.wait();
  const t0 = performance.now();
  const cli = spawnSync('sh', [
    '-c',
    `docker logs -t ${c.id} > /dev/null 2>&1`,
  ]);
  const cliMs = performance.now() - t0;
  const raw = await rawHttpDrain(c.id);
  const intake = countingIntake();
  const monMs = await monitorRead(intake, () => intake.state.count >= N, {
    filters: { includeNames: [(await c.inspect()).Name.slice(1)] },
  });
  console.log(
    `throughput: one exited container, ${fmt(N)} lines of ~100 bytes`,
  );
  console.log(
    `  docker logs -t (CLI)      ${fmt(N / (cliMs / 1000))} lines/s  (${fmt(cliMs)} ms, exit ${cli.status})`,
  );
  console.log(
    `  raw HTTP drain (no parse) ${fmt(N / (raw.ms / 1000))} lines/s  (${fmt(raw.ms)} ms, ${(raw.bytes / 1048576).toFixed(0)} MiB)`,
  );
  console.log(
    `  ContainerMonitor          ${fmt(N / (monMs / 1000))} lines/s  (${fmt(monMs)} ms)`,
  );
  console.log(`  monitor / docker logs     ${(cliMs / monMs).toFixed(2)}x`);
  await c.remove({ force: true });
}

async function live() {
  const n = N / 2;
  const c = await run(`yes ${'y'.repeat(90)} | head -n ${n}`, false);
  const intake = countingIntake();
  const name = (await c.inspect()).Name.slice(1);
  const monitor = createContainerMonitor({
    intake,
    positions,
    docker,
    filters: { includeNames: [name] },
  });
  await monitor.start();
  const t0 = performance.now();
  await c.start();
  await c.wait();
  const containerMs = performance.now() - t0;
  while (intake.state.count < n) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t0;
  await monitor.shutdown();
  console.log(
    `live: following one container writing ${fmt(n)} lines as fast as it can`,
  );
  console.log(
    `  container ran ${fmt(containerMs)} ms; all lines captured after ${fmt(ms)} ms -> ${fmt(n / (ms / 1000))} lines/s`,
  );
  await c.remove({ force: true });
}

async function soak() {
  const bursts = (SOAK_SECONDS * SOAK_RATE) / 20;
  const intake = countingIntake();
  intake.state.track = true;
  const monitor = createContainerMonitor({
    intake,
    positions,
    docker,
    filters: { includeLabels: [`lc-case=${caseId}`, 'lc-soak=1'] },
    streamRotationMs: SOAK_ROTATION_MS,
  });
  await monitor.start();
  const containers = [];
  for (let k = 0; k < SOAK_CONTAINERS; k++) {
    const c = await docker.createContainer({
      Image: IMAGE,
      Cmd: [
        'awk',
        `BEGIN{for(i=0;i<${bursts};i++){for(k=0;k<20;k++) print "s${k}-" i*20+k; fflush(); system("sleep 0.1")}}`,
      ],
      Labels: { 'lc-test': 'monitors', 'lc-case': caseId, 'lc-soak': '1' },
      HostConfig: { NetworkMode: 'none' },
    });
    created.push(c);
    containers.push(c);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(containers.map((c) => c.start()));
  console.log(
    `soak: ${SOAK_CONTAINERS} containers x ${SOAK_RATE} lines/s for ${SOAK_SECONDS} s, rotation ${SOAK_ROTATION_MS / 1000} s`,
  );
  console.log(
    '  t(s)   lines      cpu%   rssMiB  fds  handles  streams  rotations',
  );
  let lastCpu = process.cpuUsage();
  let lastT = performance.now();
  const expected = SOAK_CONTAINERS * bursts * 20;
  const sampleEvery = FULL ? 30_000 : 5_000;
  const exitedAll = Promise.all(containers.map((c) => c.wait()));
  let done = false;
  void exitedAll.then(() => (done = true));
  while (!done || intake.state.seen.size < expected) {
    await new Promise((r) => setTimeout(r, sampleEvery));
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const pct = ((cpu.user + cpu.system) / 1000 / (now - lastT)) * 100;
    lastCpu = process.cpuUsage();
    lastT = now;
    const st = monitor.status();
    console.log(
      `  ${String(Math.round((now - t0) / 1000)).padStart(4)}  ${String(intake.state.count).padStart(9)}  ${pct.toFixed(1).padStart(6)}  ${(process.memoryUsage().rss / 1048576).toFixed(0).padStart(6)}  ${String(readdirSync('/proc/self/fd').length).padStart(4)}  ${String(process.getActiveResourcesInfo().length).padStart(7)}  ${String(st.filter((s) => s.phase === 'streaming').length).padStart(7)}  ${String(st.reduce((a, s) => a + s.rotations, 0)).padStart(9)}`,
    );
    if (done && now - t0 > (SOAK_SECONDS + 120) * 1000) break;
  }
  const total = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await monitor.shutdown();
  console.log(
    `  expected ${fmt(expected)}, captured unique ${fmt(intake.state.seen.size)}, lost ${fmt(expected - intake.state.seen.size)}, duplicates ${fmt(intake.state.dups)}`,
  );
  console.log(
    `  mean CPU ${(((total.user + total.system) / 1000 / wall) * 100).toFixed(1)}% of one core; fds after shutdown ${readdirSync('/proc/self/fd').length}`,
  );
}

try {
  await throughput();
  await live();
  await soak();
} finally {
  await Promise.allSettled(created.map((c) => c.remove({ force: true })));
}
