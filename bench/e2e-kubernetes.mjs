// Kubernetes pod logs (CRI files) → file sink through the real lc-agent
// process (built dist) at its defaults, next to the same lines as a plain
// file → file sink in the same run (the ratio is the cost of CRI: parsing
// the time, the stream label, P/F joining).
//
//   node bench/e2e-kubernetes.mjs                         1,000,000 lines
//   LC_BENCH_LINES=300000 node bench/e2e-kubernetes.mjs   a quicker run
//
// The CRI corpus is the file corpus (bench/corpus.mjs) with each line
// behind `<RFC 3339 nano time> stdout|stderr F ` (one in seven on stderr),
// in 10 pods (one container each), like a node with a few busy pods.
// Every 200th line is written as P fragments of 64 bytes and an F. Target
// (issue 17): ≥ 500,000 lines/s at defaults.
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusLine, writeCorpus } from './corpus.mjs';
import {
  countLines,
  cpuSeconds,
  peakRssMb,
  spawnBuiltAgent,
} from './lib/agent-proc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LINES = Number(process.env.LC_BENCH_LINES ?? 1_000_000);
const PODS = 10;
const BASE_NS = BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n;

/** RFC 3339 with nanoseconds for line `i` (1.000123 ms apart). */
function criTime(i) {
  const ns = BASE_NS + BigInt(i) * 1_000_123n;
  const ms = ns / 1_000_000n;
  const within = String(ns - ms * 1_000_000n).padStart(6, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 23)}${within}Z`;
}

/** Lines [from, to) of the corpus as CRI lines, appended to `path`; returns the records they make. */
function writeCri(path, from, to) {
  const fd = openSync(path, 'a');
  let chunk = '';
  try {
    for (let i = from; i < to; i++) {
      const stream = i % 7 === 0 ? 'stderr' : 'stdout';
      const line = corpusLine(i);
      if (i % 200 === 199) {
        for (let at = 0; at < line.length; at += 64) {
          const tag = at + 64 >= line.length ? 'F' : 'P';
          chunk += `${criTime(i)} ${stream} ${tag} ${line.slice(at, at + 64)}\n`;
        }
      } else chunk += `${criTime(i)} ${stream} F ${line}\n`;
      if (chunk.length >= 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

async function run(name, dir, sourceYaml, place) {
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data, log_level: info}
api: {port: 0}
sources: ${sourceYaml}
sinks: {file: [{name: out, directory: ${dir}/out, format: text, path_template: "{source}.log"}]}
`,
  );
  const agent = spawnBuiltAgent(root, config);
  await agent.ready();
  const pid = agent.child.pid;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const bytes = place();
  let got = 0;
  const end = Date.now() + 600_000;
  let firstMs = 0;
  while ((got = countLines(join(dir, 'out'))) < LINES && Date.now() < end) {
    if (got > 0 && firstMs === 0) firstMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${name}: first line out after ${(firstMs / 1000).toFixed(2)} s, all after ${seconds.toFixed(2)} s`,
  );
  const cpu = cpuSeconds(pid) - cpu0;
  const rss = peakRssMb(pid);
  agent.child.kill('SIGTERM');
  await agent.exited;
  return {
    scenario: name,
    lines: got,
    'lines/s': Math.round(got / seconds),
    'MB/s': +(bytes / 2 ** 20 / seconds).toFixed(1),
    'cpu s': +cpu.toFixed(2),
    'cpu s / M lines': +((cpu / got) * 1e6).toFixed(2),
    'peak RSS MB': +rss.toFixed(0),
  };
}

const base = mkdtempSync(join(tmpdir(), 'lc-bench-k8s-'));
try {
  const rows = [];
  // Plain files: the same lines in 10 files, read by a file group.
  {
    const dir = join(base, 'plain');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    mkdirSync(join(dir, 'stage'), { recursive: true });
    const per = Math.ceil(LINES / PODS);
    for (let p = 0; p < PODS; p++)
      writeCorpus(
        join(dir, 'stage', `app-${p}.log`),
        Math.min(LINES, (p + 1) * per),
        p * per,
      );
    rows.push(
      await run(
        'plain files → file sink (agent, defaults)',
        dir,
        `{files: [{include: ["${dir}/logs/*.log"]}]}`,
        () => {
          let bytes = 0;
          for (let p = 0; p < PODS; p++) {
            const from = join(dir, 'stage', `app-${p}.log`);
            bytes += statSync(from).size;
            renameSync(from, join(dir, 'logs', `app-${p}.log`));
          }
          return bytes;
        },
      ),
    );
  }
  // CRI files in the kubelet layout, read by sources.kubernetes.
  {
    const dir = join(base, 'k8s');
    const pods = join(dir, 'pods');
    mkdirSync(pods, { recursive: true });
    mkdirSync(join(dir, 'stage'), { recursive: true });
    const per = Math.ceil(LINES / PODS);
    for (let p = 0; p < PODS; p++)
      writeCri(
        join(dir, 'stage', `${p}.log`),
        p * per,
        Math.min(LINES, (p + 1) * per),
      );
    rows.push(
      await run(
        'CRI pod logs → file sink (agent, sources.kubernetes defaults)',
        dir,
        `{kubernetes: {enabled: true, root: ${pods}, containers_dir: ${dir}/containers}}`,
        () => {
          let bytes = 0;
          for (let p = 0; p < PODS; p++) {
            const podDir = join(
              pods,
              `bench_app-${p}_00000000-0000-0000-0000-00000000000${p}`,
              'app',
            );
            mkdirSync(podDir, { recursive: true });
            const from = join(dir, 'stage', `${p}.log`);
            bytes += statSync(from).size;
            renameSync(from, join(podDir, '0.log'));
          }
          return bytes;
        },
      ),
    );
  }
  console.table(rows);
  console.log(`e2e-result ${JSON.stringify({ scenario: 'kubernetes', rows })}`);
  console.log(
    `CRI/plain throughput ratio ${(rows[1]['lines/s'] / rows[0]['lines/s']).toFixed(3)}`,
  );
} finally {
  rmSync(base, { recursive: true, force: true });
}
