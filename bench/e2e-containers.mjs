#!/usr/bin/env node
// End-to-end: container → file through the real lc-agent (built dist) and
// the real Docker engine (scripts/services.sh). 10 containers (busybox test
// image, --network none, json-file) each print a fixed number of numbered,
// fixed-width lines as fast as they can while the agent (docker source
// filtered on this run's label → file sink, text) follows them: once with
// sources.docker.mode files (json-file logs read from the data root), then
// with mode api (the engine's logs stream), each on its own 10 containers.
// Every delivered line is then checked: lost and duplicated per container.
// Baseline, same run: `docker logs` of the same (exited) containers, 10 in
// parallel, each into a file (what the agent also does, minus the agent).
// dockerd's CPU over each phase is shown too (the engine serves both).
//
//   node bench/e2e-containers.mjs                 10 x 100,000 lines
//   LC_BENCH_FULL=1 node bench/e2e-containers.mjs 10 x 200,000 lines
//   LC_BENCH_CONTAINER_LINES=N                    N lines per container
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpuSeconds, peakRssMb, spawnBuiltAgent } from './lib/agent-proc.mjs';
import {
  killAtCleanup,
  loadAvg,
  onCleanup,
  report,
  requireFrom,
  root,
  runScenario,
  servicesEnv,
  SeqCounter,
  sleep,
  stopAgent,
  tempDir,
  timedCommand,
} from './lib/e2e-util.mjs';

const FULL = process.env.LC_BENCH_FULL === '1';
const CONTAINERS = 10;
const PER = Number(
  process.env.LC_BENCH_CONTAINER_LINES ?? (FULL ? 200_000 : 100_000),
);
const PAD = 'x'.repeat(80);
// "cNN SSSSSSSSS <80 x>\n"
const LINE_BYTES = 1 + 2 + 1 + 9 + 1 + PAD.length + 1;
const Docker = requireFrom('monitors')('dockerode');

function dockerdCpu() {
  try {
    const pid = execFileSync('pidof', ['dockerd'], { encoding: 'utf8' })
      .trim()
      .split(' ')[0];
    return cpuSeconds(Number(pid));
  } catch {
    return NaN;
  }
}

function dirBytes(dir) {
  let n = 0;
  try {
    for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  } catch {
    // not created yet
  }
  return n;
}

/** Per-container line accounting of files holding "cNN SSSSSSSSS ..." lines. */
function verify(files) {
  const counters = Array.from(
    { length: CONTAINERS },
    () => new SeqCounter(PER + 1),
  );
  let foreign = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end === -1) break;
      const m = /^c(\d\d) (\d{9}) /.exec(text.slice(start, start + 14));
      if (m && Number(m[1]) < CONTAINERS)
        counters[Number(m[1])].add(Number(m[2]));
      else foreign++;
      start = end + 1;
    }
  }
  let lost = 0;
  let dups = 0;
  let distinct = 0;
  const detail = [];
  for (const [k, c] of counters.entries()) {
    distinct += c.distinct;
    dups += c.duplicates;
    const m = c.missing(PER + 1, 6);
    const gone = m.count - 1; // line numbers start at 1
    lost += gone;
    if (gone > 0 || c.duplicates > 0)
      detail.push(
        `c${String(k).padStart(2, '0')}: lost ${gone} (first ${m.first.slice(1).join(',')}), dup ${c.duplicates}`,
      );
  }
  if (detail.length > 0) console.log(`  ${detail.join('\n  ')}`);
  return { distinct, dups, lost, foreign };
}

/**
 * One agent run in `mode` (files | api) over its own 10 containers:
 * started together, followed to the last byte, checked line by line.
 */
async function agentRun(
  mode,
  { docker, image, socket, runBase, dir, containers },
  reuse,
) {
  // `reuse`: read the exited containers of an earlier run (catch-up).
  const runId = reuse?.runId ?? `${runBase}-${mode}`;
  const name = reuse === undefined ? mode : `${mode}-catch-up`;
  const mine = reuse?.mine ?? [];
  for (let k = 0; reuse === undefined && k < CONTAINERS; k++) {
    const tag = String(k).padStart(2, '0');
    const c = await docker.createContainer({
      Image: image,
      name: `${runId}-c${tag}`,
      Cmd: [
        'awk',
        `BEGIN{for(i=1;i<=${PER};i++) printf "c${tag} %09d ${PAD}\\n", i}`,
      ],
      Labels: { 'lc-test': 'bench', 'lc-case': runId },
      HostConfig: {
        NetworkMode: 'none',
        LogConfig: { Type: 'json-file', Config: {} },
      },
    });
    mine.push(c);
    containers.push(c);
  }
  const out = join(dir, `out-${name}`);
  const config = join(dir, `agent-${name}.yaml`);
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data-${name}, log_level: info}
api: {port: 0}
sources:
  docker: {enabled: true, mode: ${mode}, socket: ${socket}, include_labels: ["lc-case=${runId}"]}
positions: {flush_interval: 1s}
sinks:
  file: [{name: out, directory: ${out}, format: text, path_template: "{container_name}.log"}]
`,
  );
  const agent = spawnBuiltAgent(root, config);
  killAtCleanup(agent);
  const api = await agent.ready();
  const pid = agent.child.pid;

  const expectedBytes = CONTAINERS * PER * LINE_BYTES;
  const cpu0 = cpuSeconds(pid);
  const d0 = dockerdCpu();
  const t0 = performance.now();
  if (reuse === undefined) await Promise.all(mine.map((c) => c.start()));
  let containersMs = 0;
  void Promise.all(mine.map((c) => c.wait())).then(
    () => (containersMs = performance.now() - t0),
  );
  // Done when every byte is there, or (lines lost) 30 s without progress
  // after the containers exited; time and CPU then stop at the last progress.
  let bytes = 0;
  let last = -1;
  let lastChange = performance.now();
  let atLast = { cpu: cpuSeconds(pid), dockerd: dockerdCpu() };
  let firstMs = 0;
  while (bytes < expectedBytes) {
    await sleep(100);
    bytes = dirBytes(out);
    if (bytes > 0 && firstMs === 0) firstMs = performance.now() - t0;
    if (bytes !== last) {
      last = bytes;
      lastChange = performance.now();
      atLast = { cpu: cpuSeconds(pid), dockerd: dockerdCpu() };
    } else if (containersMs > 0 && performance.now() - lastChange > 30_000)
      break;
  }
  const complete = bytes >= expectedBytes;
  const seconds = ((complete ? performance.now() : lastChange) - t0) / 1000;
  const cpu = (complete ? cpuSeconds(pid) : atLast.cpu) - cpu0;
  const dockerd = (complete ? dockerdCpu() : atLast.dockerd) - d0;
  const rss = peakRssMb(pid);
  while (containersMs === 0) await sleep(50);
  await sleep(2000); // late duplicates would show up now
  let status;
  if (!complete) {
    try {
      status = await (await fetch(`${api}/status`)).json();
    } catch (error) {
      status = String(error);
    }
  }
  await stopAgent(agent);
  const files = readdirSync(out).map((f) => join(out, f));
  const check = verify(files);
  if (check.lost > 0 || check.dups > 0) {
    const warnings = agent
      .stderr()
      .split('\n')
      .filter((l) => /"level":(4|5|6)\d/.test(l));
    console.log(
      `agent (${mode}) warnings/errors (${warnings.length}, last 10):\n  ${warnings.slice(-10).join('\n  ')}`,
    );
    if (status !== undefined)
      console.log(
        `agent /status at the end:\n  ${JSON.stringify(status).slice(0, 6000)}`,
      );
  }
  console.log(
    `${name}: first line out after ${(firstMs / 1000).toFixed(2)} s, all after ${seconds.toFixed(2)} s`,
  );
  return { mode, runId, seconds, cpu, dockerd, rss, check, containersMs, mine };
}

async function main() {
  const env = servicesEnv();
  const socket = env.LC_DOCKER_SOCKET ?? '/var/run/docker.sock';
  const image = env.LC_DOCKER_TEST_IMAGE ?? 'lc-test/busybox';
  const docker = new Docker({ socketPath: socket });
  await docker.ping();
  const runId = `lc-bench-${process.pid}-${Date.now()}`;
  const dir = tempDir('lc-bench-containers-');

  const containers = [];
  // Removal retries for 60 s: the engine may be restarting (other tests on
  // this machine restart dockerd); a container already gone is fine.
  onCleanup(async () => {
    let left = containers;
    for (let i = 0; i < 60 && left.length > 0; i++) {
      if (i > 0) await sleep(1000);
      const results = await Promise.allSettled(
        left.map((c) => c.remove({ force: true })),
      );
      left = left.filter(
        (_, k) =>
          results[k].status === 'rejected' &&
          results[k].reason?.statusCode !== 404,
      );
    }
    if (left.length > 0)
      console.error(
        `could not remove containers: ${left.map((c) => c.id).join(' ')}`,
      );
  });
  const loadBefore = loadAvg();
  const ctx = { docker, image, socket, runBase: runId, dir, containers };
  // The default (files: the data root is readable here) first, then api.
  const filesRun = await agentRun('files', ctx);
  const apiRun = await agentRun('api', ctx);
  // The same exited containers as docker logs reads below: files mode from scratch.
  const catchUp = await agentRun('files', ctx, filesRun);
  const agentCheck = filesRun.check;
  const containersMs = filesRun.containersMs;
  const measured = filesRun.mine;

  // Baseline: docker logs of the same exited containers, 10 in parallel.
  const script = measured
    .map((c, k) => `docker logs ${c.id} > ${dir}/base-${k}.log 2>/dev/null &`)
    .join('\n');
  const d1 = dockerdCpu();
  const base = await timedCommand('sh', ['-c', `${script}\nwait`]);
  const dockerdBase = dockerdCpu() - d1;
  const baseFiles = measured.map((_, k) => join(dir, `base-${k}.log`));
  const baseCheck = verify(baseFiles);

  const total = CONTAINERS * PER;
  const row = (label, s, c, dc, r, check) => ({
    scenario: label,
    lines: check.distinct,
    'lines/s': Math.round(check.distinct / s),
    'MB/s': +((check.distinct * LINE_BYTES) / 2 ** 20 / s).toFixed(1),
    'cpu s': +c.toFixed(2),
    'cpu s / M lines': +((c / check.distinct) * 1e6).toFixed(2),
    'dockerd cpu s': +dc.toFixed(2),
    'peak RSS MB': +r.toFixed(0),
    lost: check.lost,
    dup: check.dups,
  });
  const rows = [
    row(
      `${CONTAINERS} containers → file sink (agent, mode files: default here)`,
      filesRun.seconds,
      filesRun.cpu,
      filesRun.dockerd,
      filesRun.rss,
      filesRun.check,
    ),
    row(
      `${CONTAINERS} containers → file sink (agent, mode api)`,
      apiRun.seconds,
      apiRun.cpu,
      apiRun.dockerd,
      apiRun.rss,
      apiRun.check,
    ),
    row(
      `${CONTAINERS} exited containers → file sink (agent, mode files, catch-up from scratch)`,
      catchUp.seconds,
      catchUp.cpu,
      catchUp.dockerd,
      catchUp.rss,
      catchUp.check,
    ),
    row(
      'baseline: docker logs ×10 in parallel (exited containers)',
      base.seconds,
      base.cpu,
      dockerdBase,
      base.rss,
      baseCheck,
    ),
  ];
  console.log(
    `${CONTAINERS} containers × ${PER.toLocaleString('en-US')} lines of ${LINE_BYTES} bytes (${total.toLocaleString('en-US')} lines); containers finished writing after ${(containersMs / 1000).toFixed(1)} s; load ${loadBefore} → ${loadAvg()}`,
  );
  report('container → file', rows, {
    containersSeconds: +(containersMs / 1000).toFixed(2),
    agentForeignLines: agentCheck.foreign,
  });
  console.log(
    `agent files: ${agentCheck.distinct}/${total} distinct lines, lost ${agentCheck.lost}, duplicates ${agentCheck.dups}, unparsable ${agentCheck.foreign}; files (live)/docker-logs throughput ${(rows[0]['lines/s'] / rows[3]['lines/s']).toFixed(3)}; files (catch-up)/docker-logs ${(rows[2]['lines/s'] / rows[3]['lines/s']).toFixed(3)}; api (live)/docker-logs ${(rows[1]['lines/s'] / rows[3]['lines/s']).toFixed(3)}; api: lost ${apiRun.check.lost}, duplicates ${apiRun.check.dups}`,
  );
}

await runScenario(main);
