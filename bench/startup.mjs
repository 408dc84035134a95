// Start-up: how soon a freshly spawned lc-agent (built binary, the agent's
// default settings, JSON file sink) has made a file's identity durable and
// delivered its first line, next to `node -e 0` measured in the same run.
// A crash loop only makes progress if each short-lived process gets this
// far: the figures are from spawn, not from readiness.
//
//   node bench/startup.mjs            7 spawns per row, medians
//   LC_BENCH_STARTS=20 node bench/startup.mjs
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { shebangNodeFlags } from './lib/agent-proc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI =
  process.env.LC_BENCH_CLI ?? join(root, 'packages/agent/dist/cli.js');
const STARTS = Number(process.env.LC_BENCH_STARTS ?? 7);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Files of `dir` whose content includes `needle` (the position journal). */
function anyFileIncludes(dir, prefix, needle) {
  try {
    for (const f of readdirSync(dir))
      if (
        f.startsWith(prefix) &&
        readFileSync(join(dir, f), 'utf8').includes(needle)
      )
        return true;
  } catch {
    // not there yet
  }
  return false;
}

function delivered(dir) {
  try {
    for (const f of readdirSync(dir))
      if (statSync(join(dir, f)).size > 0) return true;
  } catch {
    // not there yet
  }
  return false;
}

async function oneStart() {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-startup-'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'app.log'), 'first line\n');
  // Defaults except paths and a free API port.
  writeFileSync(
    join(dir, 'agent.yaml'),
    `app: {data_dir: ${dir}/data}\napi: {port: 0}\nsources: {files: [{include: ["${dir}/logs/*.log"]}]}\nsinks: {file: [{name: out, directory: ${dir}/out}]}\n`,
  );
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...shebangNodeFlags(CLI), CLI, 'run', '--config', join(dir, 'agent.yaml')],
    { stdio: 'ignore' },
  );
  const at = {};
  const data = join(dir, 'data');
  while (performance.now() - t0 < 10_000) {
    const now = performance.now() - t0;
    at.watch ??= anyFileIncludes(data, 'positions.json', '"file-watch"')
      ? now
      : undefined;
    at.identity ??= anyFileIncludes(data, 'positions.json', 'app.log')
      ? now
      : undefined;
    at.delivery ??= delivered(join(dir, 'out')) ? now : undefined;
    if (
      at.watch !== undefined &&
      at.identity !== undefined &&
      at.delivery !== undefined
    )
      break;
    await sleep(1);
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return at;
}

const nodeRuns = [];
for (let i = 0; i < STARTS; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, [...shebangNodeFlags(CLI), '-e', '0']);
  nodeRuns.push(performance.now() - t0);
}
const runs = [];
for (let i = 0; i < STARTS; i++) runs.push(await oneStart());
const ms = (xs) =>
  xs.some((x) => x === undefined) ? 'n/a' : Math.round(median(xs));
const rows = [
  {
    row: 'node -e 0 (baseline, same flags)',
    medianMs: Math.round(median(nodeRuns)),
  },
  { row: 'spawn → file watch durable', medianMs: ms(runs.map((r) => r.watch)) },
  {
    row: 'spawn → first file identity durable',
    medianMs: ms(runs.map((r) => r.identity)),
  },
  {
    row: 'spawn → first line delivered (default batch timeout)',
    medianMs: ms(runs.map((r) => r.delivery)),
  },
];
console.log(`start-up, ${STARTS} spawns per row (medians, ms):`);
for (const r of rows) console.log(`  ${r.row.padEnd(56)} ${r.medianMs}`);
console.log(
  `e2e-result ${JSON.stringify({ scenario: 'start-up (defaults, JSON file sink)', rows })}`,
);
