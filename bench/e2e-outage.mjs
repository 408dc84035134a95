#!/usr/bin/env node
// End-to-end: sink outage. A writer (worker thread) appends numbered corpus
// lines at 20,000 lines/s to a file the real lc-agent (built dist, default
// settings: disk buffer and WAL on) tails into a Loki-wire endpoint
// (protobuf + snappy decoded like Loki receives it; bench/lib/e2e-util.mjs).
// Timeline: 10 s with the sink up (the baseline: the same run's steady
// state), then the endpoint answers 503 for LC_BENCH_OUTAGE_S seconds
// (default 60, the issue's figure), then it is back and the writer keeps
// going until the agent has caught up (+10 s), then stops; the agent drains.
// Reported: peak RSS, catch-up time (recovery → every line written before the
// recovery delivered), lines lost (must be 0: every distinct line number is
// counted at the endpoint), duplicates, write→delivered latency.
//
//   node bench/e2e-outage.mjs
//   LC_BENCH_OUTAGE_S=20 node bench/e2e-outage.mjs   shorter outage
//   LC_BENCH_OUTAGE_RATE=20000                        lines/s
//   LC_BENCH_OUTAGE_BUFFER=off   the defaults before the disk buffer (spill
//                                and WAL off: the backlog waits in memory
//                                and in the files): the baseline to compare
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, peakRssMb, spawnBuiltAgent } from './lib/agent-proc.mjs';
import {
  createCountingLoki,
  killAtCleanup,
  loadAvg,
  percentile,
  report,
  root,
  rssMb,
  runScenario,
  sleep,
  startPacedWriter,
  stopAgent,
  tempDir,
} from './lib/e2e-util.mjs';

const RATE = Number(process.env.LC_BENCH_OUTAGE_RATE ?? 20_000);
const OUTAGE_S = Number(process.env.LC_BENCH_OUTAGE_S ?? 60);
const WARM_S = 10;
const MAX_AFTER_S = 300;
const CAPACITY = RATE * (WARM_S + OUTAGE_S + MAX_AFTER_S + 30);
const BUFFER_OFF = process.env.LC_BENCH_OUTAGE_BUFFER === 'off';

async function main() {
  const dir = tempDir('lc-bench-outage-');
  mkdirSync(join(dir, 'logs'));
  const phaseOf = { current: 'steady' };
  const latency = { steady: [], outage: [], after: [] };
  let writer;
  const loki = await createCountingLoki(CAPACITY, (seq, now) => {
    if (seq % 50 !== 0 || writer === undefined) return;
    const at = writer.writtenAtMs(seq);
    if (at > 0) latency[phaseOf.current].push(now - at);
  });
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data, log_level: info}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
sinks: {loki: [{name: loki, url: "${loki.url}"}]}
${BUFFER_OFF ? 'dispatcher: {spill: {enabled: false}}\npersistence: {enabled: false}\n' : ''}`,
  );
  const agent = spawnBuiltAgent(root, config);
  killAtCleanup(agent);
  const api = await agent.ready();
  const pid = agent.child.pid;
  const load0 = loadAvg();

  const samples = [];
  const t0 = Date.now();
  const cpu0 = cpuSeconds(pid);
  writer = startPacedWriter(join(dir, 'logs', 'app.log'), RATE, CAPACITY);
  const sample = (phase) => {
    const s = {
      t: (Date.now() - t0) / 1000,
      phase,
      written: writer.written(),
      delivered: loki.counter.distinct,
      rss: rssMb(pid),
      cpu: cpuSeconds(pid) - cpu0,
    };
    samples.push(s);
    return s;
  };
  const until = async (phase, done, everyMs = 250) => {
    phaseOf.current = phase;
    for (;;) {
      const s = sample(phase);
      if (done(s)) return s;
      await sleep(everyMs);
    }
  };

  await until('steady', (s) => s.t >= WARM_S);
  const tDown = Date.now();
  loki.setDown(503);
  await until('outage', () => Date.now() - tDown >= OUTAGE_S * 1000);
  const buffer = (await (await fetch(`${api}/status`)).json()).buffer;
  loki.setDown(0);
  const tUp = Date.now();
  const writtenAtUp = writer.written();
  const backlogAtUp = writtenAtUp - loki.counter.distinct;
  const caught = await until(
    'after',
    (s) => s.delivered >= writtenAtUp || Date.now() - tUp > MAX_AFTER_S * 1000,
  );
  const catchUpS = (Date.now() - tUp) / 1000;
  const caughtUp = caught.delivered >= writtenAtUp;
  const tCaught = Date.now();
  await until('after', () => Date.now() - tCaught >= 10_000);
  await writer.stop();
  const written = writer.written();
  const tStop = Date.now();
  await until(
    'after',
    (s) => s.delivered >= written || Date.now() - tStop > 120_000,
  );
  const drainS = (Date.now() - tStop) / 1000;
  await sleep(3000); // late duplicates
  const peak = peakRssMb(pid);
  const cpuTotal = cpuSeconds(pid) - cpu0;
  const stopped = await stopAgent(agent);
  const lost = loki.counter.missing(written);

  const phase = (name) => samples.filter((s) => s.phase === name);
  const cpuRate = (ss) =>
    ss.length < 2
      ? NaN
      : (ss[ss.length - 1].cpu - ss[0].cpu) / (ss[ss.length - 1].t - ss[0].t);
  const maxRss = (ss) => Math.max(...ss.map((s) => s.rss));
  const maxLag = (ss) => Math.max(...ss.map((s) => s.written - s.delivered));
  const pct = (a) =>
    `${(percentile(a, 50) / 1000).toFixed(2)} / ${(percentile(a, 99) / 1000).toFixed(2)} / ${(Math.max(...a) / 1000).toFixed(1)}`;
  const row = (label, ss, lat) => ({
    phase: label,
    seconds: +(ss[ss.length - 1].t - ss[0].t).toFixed(1),
    'written lines/s': Math.round(
      (ss[ss.length - 1].written - ss[0].written) /
        (ss[ss.length - 1].t - ss[0].t),
    ),
    'delivered lines/s': Math.round(
      (ss[ss.length - 1].delivered - ss[0].delivered) /
        (ss[ss.length - 1].t - ss[0].t),
    ),
    'agent CPU % of a core': +(cpuRate(ss) * 100).toFixed(1),
    'max RSS MB': +maxRss(ss).toFixed(0),
    'max lag lines': maxLag(ss),
    'latency p50 / p99 / max s': lat.length > 0 ? pct(lat) : '-',
  });
  const rows = [
    row(
      'baseline: steady, sink up (before outage)',
      phase('steady'),
      latency.steady,
    ),
    row(`sink answering 503 (${OUTAGE_S} s)`, phase('outage'), latency.outage),
    row('recovery → end of drain', phase('after'), latency.after),
  ];
  console.log(
    `outage: ${RATE.toLocaleString('en-US')} lines/s, sink down ${OUTAGE_S} s, ${BUFFER_OFF ? 'spill and WAL off' : 'defaults'}; load ${load0} → ${loadAvg()}`,
  );
  report('outage', rows, {
    outageSeconds: OUTAGE_S,
    rate: RATE,
    written,
    deliveredDistinct: loki.counter.distinct,
    lost: lost.count,
    duplicates: loki.counter.duplicates,
    peakRssMb: +peak.toFixed(0),
    catchUpSeconds: caughtUp ? +catchUpS.toFixed(1) : null,
    backlogAtRecovery: backlogAtUp,
    defaults: BUFFER_OFF ? 'spill and WAL off' : 'as shipped',
    spillAtRecovery: buffer.spill,
    walAtRecovery: buffer.persistence,
    drainAfterWriterStopSeconds: +drainS.toFixed(1),
    agentCpuSeconds: +cpuTotal.toFixed(1),
    refusedPushes: loki.state.refused,
    agentExit: stopped.code,
  });
  console.log(
    `written ${written}, delivered distinct ${loki.counter.distinct}, lost ${lost.count}${lost.count > 0 ? ` (first ${lost.first.join(',')})` : ''}, duplicates ${loki.counter.duplicates}`,
  );
  console.log(
    `on disk at recovery: spill ${buffer.spill.records.toLocaleString('en-US')} records (${(buffer.spill.bytes / 1048576).toFixed(0)} MiB, oldest ${buffer.spill.oldestAgeSeconds.toFixed(0)} s), WAL ${buffer.persistence.records.toLocaleString('en-US')} records in ${buffer.persistence.batches} batches`,
  );
  console.log(
    `peak RSS ${peak.toFixed(0)} MB; catch-up ${caughtUp ? `${catchUpS.toFixed(1)} s` : `not reached in ${MAX_AFTER_S} s`} after recovery (backlog at recovery ${backlogAtUp.toLocaleString('en-US')} lines); 503 answers ${loki.state.refused}; agent CPU ${cpuTotal.toFixed(1)} s total`,
  );
  console.log(
    'timeline (every 5 s): t s, phase, written, delivered, lag, RSS MB',
  );
  let next = 0;
  for (const s of samples) {
    if (s.t < next) continue;
    next = s.t + 5;
    console.log(
      `  ${s.t.toFixed(0).padStart(4)} ${s.phase.padEnd(6)} ${String(s.written).padStart(8)} ${String(s.delivered).padStart(8)} ${String(s.written - s.delivered).padStart(8)} ${s.rss.toFixed(0).padStart(5)}`,
    );
  }
}

await runScenario(main);
