// Many-files benchmark through the real lc-agent process (built dist):
// 10,000 files in one directory, 1 % of them (100, every 100th) appended at a
// modest rate, the rest idle; the agent tails them into a file sink (one
// output file, text format) with default settings. Issue 10, scenario 5.
//
//   node bench/e2e-many-files.mjs
//   LC_BENCH_MANY_FILES=10000 LC_BENCH_MANY_RATE=10 (lines/s per active file)
//   LC_BENCH_MANY_S=60 (active phase) LC_BENCH_MANY_IDLE_S=60 (idle phase)
//
// Phases, all against the same agent process:
// 1. discovery: every file holds one line before the agent starts; time from
//    spawning the agent to its first delivered line and to the last of the
//    10,000 (every file found and read), CPU and RSS meanwhile;
// 2. active: 100 files at LC_BENCH_MANY_RATE lines/s each (paced writer in
//    a child process), the other 9,900 idle: agent CPU % of one core, RSS,
//    open fds (/proc/<pid>/fd), write→delivered latency;
// 3. idle: nothing written: the agent's idle CPU %, RSS and fds with 10,000
//    tracked files (the "idle run" figures).
// Lost / duplicated lines are counted per (file, seq) over all phases by a
// verifier child following the output like `tail -F` (polling every 20 ms).
// Baseline, after the agent stopped: a plain stat-polling loop (child
// process) over the same 10,000 files once a second (the agent's default
// `poll_interval`), its CPU % and RSS.
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
  benchLine,
  forkRole,
  loadAverage,
  onCleanup,
  procCpuSeconds,
  procFdCount,
  procRss,
  runCleanups,
  sleep,
  startSampler,
  stopChild,
} from './lib/load-util.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = Number(process.env.LC_BENCH_MANY_FILES ?? 10_000);
const ACTIVE_EVERY = 100; // 1 % active
const RATE = Number(process.env.LC_BENCH_MANY_RATE ?? 10);
const ACTIVE_S = Number(process.env.LC_BENCH_MANY_S ?? 60);
const IDLE_S = Number(process.env.LC_BENCH_MANY_IDLE_S ?? 60);
const BASELINE_S = Number(process.env.LC_BENCH_MANY_BASELINE_S ?? 30);
const DISCOVERY_TIMEOUT_MS = 180_000;
const DRAIN_MS = 30_000;
const SAMPLE_MS = 2_000;

let stopping = false;

const fmt = (x, d = 0) =>
  Number.isFinite(x) ? +x.toFixed(d) : x === Infinity ? '>120000' : 'n/a';

/** CPU % of one core, RSS and fds of `pid` over a phase that `run()` spans. */
async function phase(pid, run) {
  const cpu0 = procCpuSeconds(pid);
  const t0 = performance.now();
  const sampler = startSampler({ p: pid }, SAMPLE_MS);
  const result = await run();
  const seconds = (performance.now() - t0) / 1000;
  const samples = sampler.stop();
  const mem = procRss(pid);
  const fds = procFdCount(pid);
  // CPU % over each 10 s (5 samples), for a timeline of the phase.
  const timeline = [];
  for (let i = 0; i + 5 <= samples.length; i += 5) {
    const part = samples.slice(i, i + 5);
    timeline.push(
      `${fmt(part.reduce((a, s) => a + s.p.cpuPct, 0) / 5, 1)}%/${part.at(-1).p.fds}fd`,
    );
  }
  return {
    result,
    timeline,
    seconds,
    cpuPct: ((procCpuSeconds(pid) - cpu0) / seconds) * 100,
    rssFirst: samples[0]?.p.rss ?? mem.rss,
    rssLast: mem.rss,
    hwm: mem.hwm,
    fdsEnd: fds,
    fdsMax: Math.max(fds, ...samples.map((s) => s.p.fds)),
  };
}

async function main() {
  statSync(join(root, 'packages/agent/dist/cli.js')); // built? (pnpm build)
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-many-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'in'));
  mkdirSync(join(dir, 'out'));
  const path = (i) => join(dir, 'in', `f${String(i).padStart(5, '0')}.log`);
  for (let i = 0; i < FILES; i++) writeFileSync(path(i), benchLine(0, i, 0));
  const active = [];
  for (let i = 0; i < FILES; i += ACTIVE_EVERY) active.push(i);
  const config = join(dir, 'agent.yaml');
  // Defaults everywhere except paths, a free API port and the sink.
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data}
api: {port: 0}
sources: {files: [{include: ["${dir}/in/*.log"]}]}
sinks: {file: [{name: out, directory: ${dir}/out, format: text, path_template: out.log}]}
`,
  );
  console.log(
    `many files: ${FILES.toLocaleString('en')} files (one line each to start), ` +
      `${active.length} active at ${RATE} lines/s for ${ACTIVE_S} s, idle ${IDLE_S} s; ` +
      `load average before: ${loadAverage()}`,
  );

  const verifier = forkRole('reader', {
    files: [join(dir, 'out', 'out.log')],
    pollMs: 20,
    fileCount: FILES,
  });
  onCleanup(() => stopChild(verifier.child, verifier.exited));
  await sleep(300);

  // 1. discovery
  const spawnedAt = Date.now();
  const agent = spawnBuiltAgent(root, config);
  onCleanup(() => stopChild(agent.child, agent.exited));
  void agent.exited.then((code) => {
    if (!stopping)
      console.log(
        `agent exited early (${code}); stderr tail:\n${agent.stderr().slice(-3000)}`,
      );
  });
  const pid = agent.child.pid;
  let readyS = NaN;
  const disc = await phase(pid, async () => {
    await agent.ready();
    readyS = (Date.now() - spawnedAt) / 1000;
    let p = await verifier.request({ type: 'progress' });
    while (p.unique < FILES && Date.now() - spawnedAt < DISCOVERY_TIMEOUT_MS) {
      await sleep(100);
      p = await verifier.request({ type: 'progress' });
    }
    return {
      firstS: p.firstAt > 0 ? (p.firstAt - spawnedAt) / 1000 : NaN,
      allS: p.unique >= FILES ? (Date.now() - spawnedAt) / 1000 : NaN,
      unique: p.unique,
    };
  });

  // 2. active
  const act = await phase(pid, async () => {
    const writer = forkRole('writer', {
      files: active.map(path),
      ids: active,
      rate: RATE,
      durationMs: ACTIVE_S * 1000,
      startSeq: 1,
    });
    onCleanup(() => stopChild(writer.child, writer.exited));
    return writer.waitFor('done');
  });
  const expected = Array.from({ length: FILES }, () => 1);
  active.forEach((f, i) => (expected[f] += act.result.written[i]));
  const total = expected.reduce((a, b) => a + b, 0);
  const tEnd = Date.now();
  let p = await verifier.request({ type: 'progress' });
  while (p.unique < total && Date.now() - tEnd < DRAIN_MS) {
    await sleep(100);
    p = await verifier.request({ type: 'progress' });
  }
  const drainS = (Date.now() - tEnd) / 1000;

  // 3. idle
  const idle = await phase(pid, () => sleep(IDLE_S * 1000));
  const out = await verifier.request({ type: 'finish', expected });
  stopping = true;
  await stopChild(agent.child, agent.exited);
  const agentExit = agent.child.exitCode ?? agent.child.signalCode;

  // Baseline: stat-polling loop over the same files, agent stopped.
  const poller = forkRole('statpoll', {
    dir: join(dir, 'in'),
    intervalMs: 1000,
  });
  onCleanup(() => stopChild(poller.child, poller.exited));
  await sleep(1000); // startup and the readdir are not the loop
  const base = await phase(poller.child.pid, () => sleep(BASELINE_S * 1000));
  const loadAfter = loadAverage();

  const row = (label, ph, extra = {}) => ({
    phase: label,
    seconds: fmt(ph.seconds, 1),
    'CPU % of 1 core': fmt(ph.cpuPct, 2),
    'RSS first MB': fmt(ph.rssFirst),
    'RSS last MB': fmt(ph.rssLast),
    'peak RSS MB': fmt(ph.hwm),
    'fds max': ph.fdsMax,
    'fds end': ph.fdsEnd,
    ...extra,
  });
  const phases = [
    row('agent: discovery (spawn → all files delivered)', disc),
    row(`agent: active (${active.length} files × ${RATE} lines/s)`, act),
    row(`agent: idle (${FILES} files, none growing)`, idle),
    row(`baseline: stat loop over ${FILES} files, 1/s`, base),
  ];
  console.table(phases);
  console.log(
    `e2e-result ${JSON.stringify({ scenario: `many files: ${FILES}, ${active.length} active`, rows: phases, lost: out.lost, duplicated: out.dups, p99Ms: out.p99 })}`,
  );
  console.table([
    {
      figure: 'agent ready (API listening), s after spawn',
      value: fmt(readyS, 2),
    },
    {
      figure: 'first line delivered, s after spawn',
      value: fmt(disc.result.firstS, 2),
    },
    {
      figure: `all ${FILES} pre-existing lines delivered, s after spawn`,
      value:
        disc.result.unique >= FILES
          ? fmt(disc.result.allS, 2)
          : `not within ${DISCOVERY_TIMEOUT_MS / 1000} s (${disc.result.unique})`,
    },
    { figure: 'active-phase p50 write→delivered, ms', value: fmt(out.p50) },
    { figure: 'active-phase p99 write→delivered, ms', value: fmt(out.p99) },
    { figure: 'active-phase max write→delivered, ms', value: fmt(out.max) },
    { figure: 'lines written (incl. 1 per file before start)', value: total },
    { figure: 'lines lost', value: out.lost },
    { figure: 'lines duplicated', value: out.dups },
  ]);
  console.log(
    `agent CPU % of one core / open fds per 10 s: active ${act.timeline.join(' ')}; ` +
      `idle ${idle.timeline.join(' ')}`,
  );
  console.log(
    `drain after the writer stopped: ${fmt(drainS, 1)} s; lines beyond those ` +
      `written ${out.extra}, malformed ${out.malformed}; agent exit ${agentExit}`,
  );
  console.log(`load average after: ${loadAfter} (2 cores, shared machine)`);
}

try {
  await main();
} finally {
  stopping = true;
  await runCleanups();
}
