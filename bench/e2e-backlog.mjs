#!/usr/bin/env node
// End-to-end: restart with a backlog in the batch WAL. The WAL of an lc-agent
// data directory is pre-filled through the @lc/persistence API with
// LC_BENCH_BACKLOG_MB (default 1024) of unsettled batches of corpus lines
// (1000 records per batch, routed to sink "loki", file-source labels and
// cursors), exactly what an agent leaves behind when it stops while its sink
// is down. Then the real lc-agent (built dist, persistence on) is started
// with the Loki-wire endpoint up: time to ready (API listening), time to first
// delivery, time to drain (every line delivered, counted by line number: lost
// and duplicates), CPU, peak RSS.
// Baselines, same run: `cat` of the WAL files (the disk floor; page cache is
// warm, the WAL was just written) and the @lc/persistence open + recover()
// stream of the same WAL in a child process (the library floor, no sending).
// First, a short check of how far the WAL fills through the agent itself with
// the sink down (the dispatcher holds every unsettled record in memory, so its
// intake budget bounds it); skip with LC_BENCH_BACKLOG_AGENT_FILL=0.
//
//   node bench/e2e-backlog.mjs
//   LC_BENCH_BACKLOG_MB=256 node bench/e2e-backlog.mjs
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { corpusLine, writeCorpus } from './corpus.mjs';
import { cpuSeconds, peakRssMb, spawnBuiltAgent } from './lib/agent-proc.mjs';
import {
  createCountingLoki,
  killAtCleanup,
  loadAvg,
  onCleanup,
  report,
  root,
  rssMb,
  runScenario,
  sleep,
  stopAgent,
  tempDir,
  timedCommand,
} from './lib/e2e-util.mjs';

const MB = Number(process.env.LC_BENCH_BACKLOG_MB ?? 1024);
const AGENT_FILL = process.env.LC_BENCH_BACKLOG_AGENT_FILL !== '0';
const BATCH = 1000;
const SEGMENT = 64 * 2 ** 20; // buffer.max_segment_bytes default

const persistence = () => import('../packages/persistence/dist/index.js');

function agentYaml(dir, lokiUrl) {
  return `app: {data_dir: ${dir}/data, log_level: info}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
persistence: {enabled: true, max_pending_bytes: ${2 * MB}MiB}
sinks: {loki: [{name: loki, url: "${lokiUrl}"}]}
`;
}

function walFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

const duBytes = (dir) =>
  walFiles(dir).reduce((a, f) => a + statSync(f).size, 0);

async function prefill(dir) {
  const { createBatchPersistence } = await persistence();
  const path = `${dir}/logs/app.log`;
  const labels = Object.freeze({
    source: 'file',
    file_path: path,
    file_name: 'app.log',
    instance: 'bench',
  });
  const source = Object.freeze({ kind: 'file', id: 'bench-backlog:1' });
  const store = await createBatchPersistence({
    directory: join(dir, 'data', 'wal'),
    fsync: 'never',
    maxPendingBytes: 2 * MB * 2 ** 20,
    maxPendingBatches: 1_000_000,
    maxSegmentBytes: SEGMENT,
  });
  const target = MB * 2 ** 20;
  let lines = 0;
  let offset = 0;
  let batches = 0;
  const inFlight = new Set();
  const t0 = performance.now();
  while (store.stats().pendingBytes < target) {
    const records = [];
    const now = Date.now();
    for (let k = 0; k < BATCH; k++, lines++) {
      const line = corpusLine(lines);
      offset += line.length + 1;
      records.push({
        line,
        labels,
        source,
        cursor: { offset, line: lines + 1 },
        timestampMs: now,
        timestampNanos: k,
      });
    }
    const p = store
      .persist({
        id: `bench-${batches++}`,
        records,
        sinks: ['loki'],
        createdAtMs: now,
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const stats = store.stats();
  await store.shutdown();
  return {
    lines,
    batches,
    pendingBytes: stats.pendingBytes,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Child mode: open the WAL and stream every unsettled batch, send nothing. */
async function recoverBaseline(walDir) {
  const { createBatchPersistence } = await persistence();
  const t0 = performance.now();
  const store = await createBatchPersistence({
    directory: walDir,
    fsync: 'never',
    maxPendingBytes: 2 * MB * 2 ** 20,
    maxSegmentBytes: SEGMENT,
  });
  const openMs = performance.now() - t0;
  let records = 0;
  for await (const b of store.recover()) records += b.records.length;
  await store.shutdown();
  console.log(JSON.stringify({ openMs, records }));
}

/** How full the WAL gets through the agent itself with the sink down. */
async function agentFillCheck() {
  const dir = tempDir('lc-bench-backlog-fill-');
  mkdirSync(join(dir, 'logs'));
  const loki = await createCountingLoki(1);
  loki.setDown(503);
  writeFileSync(join(dir, 'agent.yaml'), agentYaml(dir, loki.url));
  writeCorpus(join(dir, 'logs', 'app.log'), 1_500_000); // ~230 MiB
  const agent = spawnBuiltAgent(root, join(dir, 'agent.yaml'));
  killAtCleanup(agent);
  const api = await agent.ready();
  let stats;
  let prev = -1;
  for (let i = 0; i < 60; i++) {
    await sleep(1000);
    stats = await (await fetch(`${api}/stats`)).json();
    const b = stats.persistence?.pendingBytes ?? 0;
    if (b === prev && i >= 10) break;
    prev = b;
  }
  const rss = peakRssMb(agent.child.pid);
  await stopAgent(agent, 20_000);
  await loki.close();
  return {
    walPendingMiB: +((stats.persistence?.pendingBytes ?? 0) / 2 ** 20).toFixed(
      1,
    ),
    walPendingBatches: stats.persistence?.pendingBatches,
    dispatcherQueuedMiB: +(
      (stats.dispatcher?.queuedBytes ?? 0) /
      2 ** 20
    ).toFixed(1),
    dispatcherWritable: stats.dispatcher?.writable,
    peakRssMb: +rss.toFixed(0),
  };
}

async function main() {
  const load0 = loadAvg();
  let fill;
  if (AGENT_FILL) {
    fill = await agentFillCheck();
    console.log(
      `through the agent (sink down, 230 MiB file, max_pending_bytes ${2 * MB} MiB): the WAL plateaued at ${fill.walPendingMiB} MiB in ${fill.walPendingBatches} batches; dispatcher holds ${fill.dispatcherQueuedMiB} MiB (writable: ${fill.dispatcherWritable}); agent peak RSS ${fill.peakRssMb} MB`,
    );
  }

  const dir = tempDir('lc-bench-backlog-');
  mkdirSync(join(dir, 'logs'));
  const pre = await prefill(dir);
  const walDir = join(dir, 'data', 'wal');
  const walBytes = duBytes(walDir);
  console.log(
    `pre-filled ${pre.lines.toLocaleString('en-US')} lines in ${pre.batches} batches: ${(pre.pendingBytes / 2 ** 20).toFixed(0)} MiB pending, ${(walBytes / 2 ** 20).toFixed(0)} MiB on disk, in ${pre.seconds.toFixed(1)} s`,
  );

  const cat = await timedCommand('cat', walFiles(walDir));
  const rec = await timedCommand(
    process.execPath,
    [join(root, 'bench', 'e2e-backlog.mjs'), '--recover-baseline', walDir],
    { stdout: 'pipe' },
  );
  if (rec.code !== 0) throw new Error(`recover baseline failed: ${rec.stderr}`);

  const loki = await createCountingLoki(pre.lines);
  writeFileSync(join(dir, 'agent.yaml'), agentYaml(dir, loki.url));
  const t0 = Date.now();
  const agent = spawnBuiltAgent(root, join(dir, 'agent.yaml'));
  killAtCleanup(agent);
  const pid = agent.child.pid;
  const timeline = [];
  const sampler = setInterval(
    () =>
      timeline.push({
        t: (Date.now() - t0) / 1000,
        delivered: loki.counter.distinct,
        rss: rssMb(pid),
      }),
    1000,
  );
  onCleanup(() => clearInterval(sampler));
  const api = await agent.ready(30 * 60_000);
  const readyS = (Date.now() - t0) / 1000;
  let last = -1;
  let lastChange = Date.now();
  while (loki.counter.distinct < pre.lines) {
    await sleep(250);
    const d = loki.counter.distinct;
    if (d !== last) {
      last = d;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 120_000) break;
  }
  const drainS = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const cpu = cpuSeconds(pid);
  await sleep(3000); // late duplicates
  let walAfter;
  try {
    walAfter = (await (await fetch(`${api}/stats`)).json()).persistence;
  } catch {
    walAfter = undefined;
  }
  const peak = peakRssMb(pid);
  const stopped = await stopAgent(agent);
  const lost = loki.counter.missing(pre.lines);
  const firstS = loki.state.firstAcceptedAtMs
    ? (loki.state.firstAcceptedAtMs - t0) / 1000
    : NaN;

  const bytes = pre.pendingBytes;
  const row = (label, seconds, cpuS, rss, extra = {}) => ({
    scenario: label,
    MiB: +(bytes / 2 ** 20).toFixed(0),
    seconds: +seconds.toFixed(1),
    'lines/s': Math.round(pre.lines / seconds),
    'MB/s': +(bytes / 2 ** 20 / seconds).toFixed(1),
    'cpu s': +cpuS.toFixed(2),
    'peak RSS MB': +rss.toFixed(0),
    ...extra,
  });
  const recOut = JSON.parse(rec.stdoutText ?? '{}');
  const rows = [
    row('agent restart: spawn → every line delivered', drainS, cpu, peak, {
      'ready s': +readyS.toFixed(2),
      'first delivery s': +firstS.toFixed(2),
    }),
    row(
      'baseline: cat of the WAL files (warm cache)',
      cat.seconds,
      cat.cpu,
      cat.rss,
    ),
    row(
      'baseline: @lc/persistence open + recover() (no send)',
      rec.seconds,
      rec.cpu,
      rec.rss,
      recOut.openMs === undefined
        ? {}
        : { 'ready s': +(recOut.openMs / 1000).toFixed(2) },
    ),
  ];
  console.log(
    `backlog ${MB} MiB target: ${pre.lines.toLocaleString('en-US')} lines; load ${load0} → ${loadAvg()}`,
  );
  report('restart with backlog', rows, {
    backlogMiB: +(bytes / 2 ** 20).toFixed(0),
    walOnDiskMiB: +(walBytes / 2 ** 20).toFixed(0),
    lines: pre.lines,
    readySeconds: +readyS.toFixed(2),
    firstDeliverySeconds: +firstS.toFixed(2),
    drainSeconds: +drainS.toFixed(1),
    lost: lost.count,
    duplicates: loki.counter.duplicates,
    walAfter,
    agentExit: stopped.code,
    agentFill: fill,
  });
  console.log(
    `ready ${readyS.toFixed(2)} s, first delivery ${firstS.toFixed(2)} s, drained ${drainS.toFixed(1)} s after spawn; delivered ${loki.counter.distinct}/${pre.lines}, lost ${lost.count}${lost.count > 0 ? ` (first ${lost.first.join(',')})` : ''}, duplicates ${loki.counter.duplicates}; WAL after: ${JSON.stringify(walAfter)}`,
  );
  console.log('timeline (every 5 s from spawn): t s, delivered, RSS MB');
  let next = 0;
  for (const s of timeline) {
    if (s.t < next) continue;
    next = s.t + 5;
    console.log(
      `  ${s.t.toFixed(0).padStart(4)} ${String(s.delivered).padStart(9)} ${s.rss.toFixed(0).padStart(5)}`,
    );
  }
}

if (process.argv[2] === '--recover-baseline') {
  await recoverBaseline(process.argv[3]);
} else {
  await runScenario(main);
}
