// End-to-end benchmarks through the real lc-agent process (built dist), each
// next to a baseline measured in the same run so the figures are ratios.
//
//   node bench/e2e.mjs                         2,000,000 lines (issue 10)
//   LC_BENCH_LINES=200000 node bench/e2e.mjs   a quicker run
//
// Implemented here: file → file sink (positions and acks on) vs a cat-like
// copy; file → Loki test server; file → OTLP/HTTP endpoint (protobuf+gzip,
// the sink's defaults; the endpoint decodes with the official OTLP protos). The other scenarios of issue 10 have their
// own scripts: e2e-kafka.mjs (file → Kafka mock broker), e2e-containers.mjs
// (container → file), e2e-outage.mjs (sink down 60 s at 20,000 lines/s),
// e2e-backlog.mjs (restart with a 1 GiB WAL backlog), e2e-steady.mjs and
// e2e-many-files.mjs (steady state, many files). See docs/benchmarks.md.
// file → Loki's baseline is @lc/sinks' Loki sink alone, in a child process.
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './corpus.mjs';
import {
  cpuSeconds,
  createLineCounter,
  peakRssMb,
  spawnBuiltAgent,
} from './lib/agent-proc.mjs';
import { sendCorpusInBatches, timedCommand } from './lib/e2e-util.mjs';
import { createCountingOtlp } from './lib/otlp-endpoint.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LINES = Number(process.env.LC_BENCH_LINES ?? 2_000_000);

function baselineCopy(src, dst) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inFd = openSync(src, 'r');
  const outFd = openSync(dst, 'w');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = readSync(inFd, buf, 0, buf.length, null);
    if (n === 0) break;
    writeSync(outFd, buf, 0, n);
  }
  closeSync(inFd);
  closeSync(outFd);
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    rss: process.memoryUsage().rss / 2 ** 20,
  };
}

async function fileToSink(name, sinkYaml, delivered, baseline, sinkBaseline) {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-e2e-'));
  try {
    mkdirSync(join(dir, 'logs'));
    const corpus = join(dir, 'corpus.log');
    writeCorpus(corpus, LINES);
    const bytes = statSync(corpus).size;
    const base = baseline ? baselineCopy(corpus, join(dir, 'copy.log')) : null;
    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      `app: {data_dir: ${dir}/data, log_level: info}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
${sinkYaml(dir)}
`,
    );
    const agent = spawnBuiltAgent(root, config);
    await agent.ready();
    const pid = agent.child.pid;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    renameSync(corpus, join(dir, 'logs', 'app.log'));
    let got = 0;
    const end = Date.now() + 600_000;
    while ((got = delivered(dir)) < LINES && Date.now() < end)
      await new Promise((r) => setTimeout(r, 200));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const rss = peakRssMb(pid);
    const load = loadavg()[0];
    agent.child.kill('SIGTERM');
    await agent.exited;
    const row = (label, s, c, r, n) => ({
      scenario: label,
      lines: n,
      'lines/s': Math.round(n / s),
      'MB/s': +(bytes / 2 ** 20 / s).toFixed(1),
      'cpu s': +c.toFixed(2),
      'cpu s / M lines': +((c / n) * 1e6).toFixed(2),
      'peak RSS MB': +r.toFixed(0),
      'load 1m': +load.toFixed(1),
    });
    const rows = [row(name, seconds, cpu, rss, got)];
    if (base !== null)
      rows.push(
        row('baseline: cat-like copy', base.seconds, base.cpu, base.rss, LINES),
      );
    if (sinkBaseline !== undefined) {
      const b = await sinkBaseline(join(dir, 'logs', 'app.log'));
      rows.push(row(b.label, b.seconds, b.cpu, b.rss, b.lines));
    }
    console.table(rows);
    console.log(`e2e-result ${JSON.stringify({ scenario: name, rows })}`);
    console.log(`${name}: ${got}/${LINES} lines delivered`);
    if (base !== null)
      console.log(
        `agent/baseline throughput ratio ${(rows[0]['lines/s'] / rows[1]['lines/s']).toFixed(3)}`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Child mode: push the corpus through `createLokiSink` alone. */
async function lokiBaseline(corpus, url) {
  const { createLokiSink } = await import('../packages/sinks/dist/index.js');
  const sink = createLokiSink({ name: 'baseline', url });
  const labels = Object.freeze({ job: 'bench' });
  const source = Object.freeze({ kind: 'file', id: 'baseline' });
  const signal = new AbortController().signal;
  const now = Date.now();
  await sendCorpusInBatches(corpus, {
    toItem: (line) => ({
      line,
      labels,
      source,
      timestampMs: now,
      timestampNanos: 0,
    }),
    send: async (records) => {
      const r = await sink.write(records, { signal });
      if (r.status !== 'success') throw new Error(JSON.stringify(r));
    },
  });
  await sink.shutdown();
}

/** Child mode: push the corpus through `createOtlpSink` alone. */
async function otlpBaseline(corpus, url) {
  const { createOtlpSink } = await import('../packages/sinks/dist/index.js');
  const sink = createOtlpSink({ name: 'baseline', endpoint: url });
  const labels = Object.freeze({ job: 'bench' });
  const source = Object.freeze({ kind: 'file', id: 'baseline' });
  const signal = new AbortController().signal;
  const now = Date.now();
  await sendCorpusInBatches(corpus, {
    toItem: (line) => ({
      line,
      labels,
      source,
      timestampMs: now,
      timestampNanos: 0,
    }),
    send: async (records) => {
      const r = await sink.write(records, { signal });
      if (r.status !== 'success') throw new Error(JSON.stringify(r));
    },
  });
  await sink.shutdown();
}

if (process.argv[2] === '--loki-baseline') {
  await lokiBaseline(process.argv[3], process.argv[4]);
  process.exit(0);
}
if (process.argv[2] === '--otlp-baseline') {
  await otlpBaseline(process.argv[3], process.argv[4]);
  process.exit(0);
}

// LC_BENCH_ONLY=file|text|loki|otlp runs only that row (e.g. to measure it alone).
const only = process.env.LC_BENCH_ONLY;

// Every agent row runs the agent at its defaults (file source: poll interval,
// watch delay, positions, dispatcher and buffer settings all unset); only the
// sink is named, and the text row sets the one option its label says.
const counted = (dir) => {
  const c = createLineCounter(join(dir, 'out'));
  return () => c();
};
if (only === undefined || only === 'file') {
  let counter = null;
  await fileToSink(
    'file → file sink (agent, defaults: JSON Lines)',
    (dir) => `sinks: {file: [{name: out, directory: ${dir}/out}]}`,
    (dir) => (counter ??= counted(dir))(),
    true,
  );
}
if (only === undefined || only === 'text') {
  let counter = null;
  await fileToSink(
    'file → file sink (agent, format: text)',
    (dir) =>
      `sinks: {file: [{name: out, directory: ${dir}/out, format: text}]}`,
    (dir) => (counter ??= counted(dir))(),
    false,
  );
}

if (only === undefined || only === 'loki') {
  const { createLokiTestServer } =
    await import('../packages/sinks/dist/testing/index.js');
  const loki = await createLokiTestServer();
  try {
    let agentEntries = 0;
    await fileToSink(
      'file → Loki test server (agent, protobuf+snappy)',
      () => `sinks: {loki: [{name: loki, url: "${loki.url}"}]}`,
      () => (agentEntries = loki.entries().length),
      false,
      // Baseline: @lc/sinks' Loki sink alone (read, split, encode, push 1000
      // lines per request, 4 in flight) in a child process: the sink's floor.
      async (corpus) => {
        const r = await timedCommand(process.execPath, [
          fileURLToPath(import.meta.url),
          '--loki-baseline',
          corpus,
          loki.url,
        ]);
        if (r.code !== 0) throw new Error(`Loki baseline failed: ${r.stderr}`);
        return {
          label: 'baseline: @lc/sinks Loki sink loop (no agent)',
          ...r,
          lines: loki.entries().length - agentEntries,
        };
      },
    );
  } finally {
    await loki.close();
  }
}

if (only === undefined || only === 'otlp') {
  const otlp = await createCountingOtlp();
  try {
    let agentRecords = 0;
    await fileToSink(
      'file → OTLP endpoint (agent, protobuf+gzip)',
      () => `sinks: {otlp: [{name: otlp, endpoint: "${otlp.url}"}]}`,
      () => (agentRecords = otlp.state.records),
      false,
      // Baseline: @lc/sinks' OTLP sink alone (read, map, encode, gzip, POST
      // 1000 records per request, 4 in flight) in a child process.
      async (corpus) => {
        const r = await timedCommand(process.execPath, [
          fileURLToPath(import.meta.url),
          '--otlp-baseline',
          corpus,
          otlp.url,
        ]);
        if (r.code !== 0) throw new Error(`OTLP baseline failed: ${r.stderr}`);
        return {
          label: 'baseline: @lc/sinks OTLP sink loop (no agent)',
          ...r,
          lines: otlp.state.records - agentRecords,
        };
      },
    );
    console.log(
      `OTLP endpoint: ${otlp.state.requests} requests, ${(otlp.state.wireBytes / 2 ** 20).toFixed(1)} MiB on the wire, ${otlp.state.badBodies} undecodable`,
    );
  } finally {
    await otlp.close();
  }
}
