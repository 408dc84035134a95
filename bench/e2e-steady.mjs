// Steady-state benchmark through the real lc-agent process (built dist):
// 100 files, each appended at 1,000 lines/s by a paced writer (a child
// process), for 5 minutes; the agent tails them into a file sink at its
// defaults (JSON Lines) except one output file (path_template, so the
// verifier follows one file). Issue 10, scenario 4.
//
//   node bench/e2e-steady.mjs                  300 s (the issue's 5 minutes)
//   LC_BENCH_STEADY_S=60 node bench/e2e-steady.mjs
//   LC_BENCH_STEADY_FILES / LC_BENCH_STEADY_RATE  files / lines/s per file
//
// Measured:
// - agent CPU % of one core over the write window (/proc/<pid>/stat);
// - agent RSS sampled every 1 s (at 10 s / last / peak VmHWM and the slope
//   after the first minute, to show whether it is flat), open fds; its V8
//   heap (used, committed young and old generation) and external memory
//   every 5 s from its /metrics;
// - write→delivered latency: every line carries its write time (ms); a
//   verifier child follows the sink's output file like `tail -F` (polling
//   every 20 ms, following the sink's rotations) and takes the time it reads
//   the line, so latencies include up to 20 ms of polling;
// - lines lost / duplicated: every (file, seq) pair is counted.
// Baselines in the same run: the writer's own CPU, and a trivial
// `tail -F`-like reader (child process) following the same 100 input files
// (poll every 100 ms, read to EOF, split lines, parse the write time; it
// writes nothing), with its CPU, RSS and write→read latency.
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnBuiltAgent } from './lib/agent-proc.mjs';
import {
  forkRole,
  loadAverage,
  onCleanup,
  procCpuSeconds,
  procFdCount,
  procRss,
  runCleanups,
  sleep,
  slope,
  startSampler,
  stopChild,
} from './lib/load-util.mjs';
import { heapTimeline, startHeapSampler } from './lib/heap-sampler.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.LC_BENCH_STEADY_S ?? 300);
const FILES = Number(process.env.LC_BENCH_STEADY_FILES ?? 100);
const RATE = Number(process.env.LC_BENCH_STEADY_RATE ?? 1000);
const DRAIN_MS = Math.max(30_000, SECONDS * 200); // 20 % of the run, ≥ 30 s
const SAMPLE_MS = 1_000;

let stopping = false;

const fmt = (x, d = 0) =>
  Number.isFinite(x) ? +x.toFixed(d) : x === Infinity ? '>120000' : 'n/a';

async function main() {
  statSync(join(root, 'packages/agent/dist/cli.js')); // built? (pnpm build)
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-steady-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'in'));
  mkdirSync(join(dir, 'out'));
  const inputs = Array.from({ length: FILES }, (_, i) =>
    join(dir, 'in', `f${String(i).padStart(3, '0')}.log`),
  );
  for (const f of inputs) writeFileSync(f, '');
  const config = join(dir, 'agent.yaml');
  // Defaults everywhere except paths, a free API port and the sink.
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data}
api: {port: 0}
sources: {files: [{include: ["${dir}/in/*.log"]}]}
sinks: {file: [{name: out, directory: ${dir}/out, path_template: out.log}]}
`,
  );

  console.log(
    `steady: ${FILES} files × ${RATE} lines/s × ${SECONDS} s = ` +
      `${(FILES * RATE * SECONDS).toLocaleString('en')} lines of 160 B; ` +
      `load average before: ${loadAverage()}`,
  );
  const agent = spawnBuiltAgent(root, config);
  onCleanup(() => stopChild(agent.child, agent.exited));
  const agentAddress = await agent.ready();
  const agentPid = agent.child.pid;
  void agent.exited.then((code) => {
    if (!stopping)
      console.log(
        `agent exited early (${code}); stderr tail:\n${agent.stderr().slice(-3000)}`,
      );
  });

  const verifier = forkRole('reader', {
    files: [join(dir, 'out', 'out.log')],
    pollMs: 20,
    fileCount: FILES,
  });
  onCleanup(() => stopChild(verifier.child, verifier.exited));
  const baseline = forkRole('reader', {
    files: inputs,
    pollMs: 100,
    fileCount: FILES,
  });
  onCleanup(() => stopChild(baseline.child, baseline.exited));
  await sleep(500); // let the readers start before the clock does

  const cpu0 = {
    agent: procCpuSeconds(agentPid),
    baseline: procCpuSeconds(baseline.child.pid),
    verifier: procCpuSeconds(verifier.child.pid),
  };
  const rssBefore = procRss(agentPid).rss;
  const sampler = startSampler(
    { agent: agentPid, baseline: baseline.child.pid },
    SAMPLE_MS,
  );
  const heapSampler = startHeapSampler(agentAddress, 5_000);
  const t0 = performance.now();
  const writer = forkRole('writer', {
    files: inputs,
    rate: RATE,
    durationMs: SECONDS * 1000,
  });
  onCleanup(() => stopChild(writer.child, writer.exited));
  const wrote = await writer.waitFor('done');
  const window = (performance.now() - t0) / 1000;
  const cpu = {
    agent: procCpuSeconds(agentPid) - cpu0.agent,
    baseline: procCpuSeconds(baseline.child.pid) - cpu0.baseline,
  };
  const samples = sampler.stop();
  const heapSamples = heapSampler.stop();
  const expected = wrote.written;
  const total = expected.reduce((a, b) => a + b, 0);

  // Let the agent deliver what is still queued (the backlog, if it fell behind).
  const tEnd = performance.now();
  let progress = await verifier.request({ type: 'progress' });
  while (progress.unique < total && performance.now() - tEnd < DRAIN_MS) {
    await sleep(100);
    progress = await verifier.request({ type: 'progress' });
  }
  const drainS = (performance.now() - tEnd) / 1000;
  const cpuWithDrain = procCpuSeconds(agentPid) - cpu0.agent;
  const verCpu = procCpuSeconds(verifier.child.pid) - cpu0.verifier;
  const out = await verifier.request({ type: 'finish', expected });
  const base = await baseline.request({ type: 'finish', expected });
  const agentMem = procRss(agentPid);
  const agentFds = procFdCount(agentPid);
  const baseMem = procRss(baseline.child.pid);
  const verMem = procRss(verifier.child.pid);
  const loadAfter = loadAverage();

  // "First" is 10 s into the run, once the pipeline is warm.
  const first = samples.find((s) => s.t >= 10) ?? samples[0];
  const late = samples.filter((s) => s.t >= 60);
  const rssSlope =
    slope(
      late.map((s) => s.t),
      late.map((s) => s.agent.rss),
    ) * 60;
  const rows = [
    {
      process: 'agent (file → file sink, defaults: JSON Lines)',
      'CPU % of 1 core': fmt((cpu.agent / window) * 100, 1),
      'RSS at 10 s MB': fmt(first?.agent.rss),
      'RSS last MB': fmt(samples.at(-1)?.agent.rss),
      'peak RSS MB': fmt(agentMem.hwm),
      'p50 ms': fmt(out.p50),
      'p99 ms': fmt(out.p99),
      'max ms': fmt(out.max),
      'lines read': out.lines,
      lost: out.lost,
      duplicated: out.dups,
    },
    {
      process: 'baseline: tail -F-like reader of the inputs',
      'CPU % of 1 core': fmt((cpu.baseline / window) * 100, 1),
      'RSS at 10 s MB': fmt(first?.baseline.rss),
      'RSS last MB': fmt(samples.at(-1)?.baseline.rss),
      'peak RSS MB': fmt(baseMem.hwm),
      'p50 ms': fmt(base.p50),
      'p99 ms': fmt(base.p99),
      'max ms': fmt(base.max),
      'lines read': base.lines,
      lost: base.lost,
      duplicated: base.dups,
    },
    {
      process: 'baseline: the paced writer',
      'CPU % of 1 core': fmt((wrote.cpuSeconds / window) * 100, 1),
      'RSS at 10 s MB': '',
      'RSS last MB': '',
      'peak RSS MB': fmt(wrote.maxRssMb),
      'p50 ms': '',
      'p99 ms': '',
      'max ms': '',
      'lines read': total,
      lost: '',
      duplicated: '',
    },
  ];
  console.table(rows);
  console.log(
    `e2e-result ${JSON.stringify({ scenario: `steady state: ${FILES} files × ${RATE} lines/s × ${SECONDS} s`, rows })}`,
  );
  console.table([
    {
      metric: 'agent CPU % of one core',
      target: '< 15',
      measured: rows[0]['CPU % of 1 core'],
    },
    {
      metric: 'agent RSS slope after 60 s, MB/min',
      target: '≈ 0 (flat)',
      measured: fmt(rssSlope, 2),
    },
    {
      metric: 'p99 write→delivered, ms',
      target: '< 1500',
      measured: rows[0]['p99 ms'],
    },
    { metric: 'lines lost', target: '0', measured: out.lost },
    { metric: 'lines duplicated', target: '0', measured: out.dups },
  ]);
  // Per 30 s of the run: mean CPU % and highest sampled RSS.
  const per = Math.max(1, Math.round(30_000 / SAMPLE_MS));
  const timeline = [];
  for (let i = 0; i < samples.length; i += per) {
    const part = samples.slice(i, i + per);
    timeline.push(
      `${fmt(part.reduce((a, x) => a + x.agent.cpuPct, 0) / part.length)}%/` +
        `${fmt(Math.max(...part.map((x) => x.agent.rss)))}MB`,
    );
  }
  console.log(
    `agent CPU % of one core / max RSS per ${(per * SAMPLE_MS) / 1000} s: ` +
      `${timeline.join(' ')}; RSS before the writer started ${fmt(rssBefore)} MB`,
  );
  console.log(
    `agent CPU % per ${SAMPLE_MS / 1000} s sample: min ${fmt(Math.min(...samples.map((s) => s.agent.cpuPct)), 1)}` +
      ` max ${fmt(Math.max(...samples.map((s) => s.agent.cpuPct)), 1)}; ` +
      `open fds at end ${agentFds}, peak sampled ${Math.max(...samples.map((s) => s.agent.fds))}`,
  );
  console.log(
    `write window ${fmt(window, 1)} s; ${total.toLocaleString('en')} lines written; ` +
      `${progress.unique === total ? 'all delivered' : `${total - progress.unique} not delivered`} ` +
      `${fmt(drainS, 1)} s after the writer stopped (agent CPU incl. drain ` +
      `${fmt((cpuWithDrain / (window + drainS)) * 100, 1)} %); ` +
      `verifier CPU ${fmt((verCpu / (window + drainS)) * 100, 1)} %, peak RSS ${fmt(verMem.hwm)} MB; ` +
      `lines beyond those written ${out.extra}, malformed ${out.malformed}`,
  );
  console.log(
    `agent V8 heap, max per 30 s, MB: used/committed (young, old committed) ` +
      `external: ${heapTimeline(heapSamples, 30)}`,
  );
  console.log(`load average after: ${loadAfter} (2 cores, shared machine)`);

  stopping = true;
  await stopChild(agent.child, agent.exited);
  if (agent.child.exitCode !== 0)
    console.log(
      `agent exit: ${agent.child.exitCode ?? agent.child.signalCode}`,
    );
}

try {
  await main();
} finally {
  await runCleanups();
}
