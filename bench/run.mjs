#!/usr/bin/env node
// `pnpm bench`: builds the workspace, then runs every benchmark script in
// bench/ (one file per area, e.g. buffer.mjs, sinks.mjs) one after another,
// prints what each printed, and writes bench/results/latest.json with the
// output, exit code and wall time of each. Benchmarks print figures; they
// never assert speed.
//
//   pnpm bench                 run all
//   pnpm bench buffer sinks    run the named ones
//   LC_BENCH_FULL=1 pnpm bench full-size scenarios (slow)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const HELPERS = new Set(['run.mjs', 'corpus.mjs']);
const wanted = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && !HELPERS.has(f) && !f.startsWith('_'))
  .filter(
    (f) => wanted.length === 0 || wanted.includes(f.replace(/\.mjs$/, '')),
  )
  .sort();

if (process.env.LC_BENCH_SKIP_BUILD !== '1') {
  const build = spawnSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const results = [];
for (const script of scripts) {
  process.stdout.write(`\n=== bench/${script} ===\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--expose-gc', join(here, script)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(run.stdout ?? '');
  results.push({
    script,
    exitCode: run.status,
    wallMs: Date.now() - started,
    // End-to-end scripts print one `e2e-result {json}` line per scenario.
    e2e: (run.stdout ?? '')
      .split('\n')
      .filter((l) => l.startsWith('e2e-result '))
      .map((l) => JSON.parse(l.slice('e2e-result '.length))),
    output: run.stdout ?? '',
  });
}

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'latest.json'),
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryBytes: totalmem(),
      full: process.env.LC_BENCH_FULL === '1',
      results,
    },
    null,
    2,
  )}\n`,
);
// One table per end-to-end scenario (agent rows next to their baselines).
const cell = (v) =>
  typeof v === 'number' ? v.toLocaleString('en') : String(v ?? '');
for (const r of results) {
  for (const e of r.e2e) {
    const rows = e.rows ?? [];
    const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    process.stdout.write(`\n### ${e.scenario} (${r.script})\n\n`);
    process.stdout.write(
      `| ${keys.join(' | ')} |\n|${keys.map(() => '---').join('|')}|\n`,
    );
    for (const row of rows)
      process.stdout.write(
        `| ${keys.map((k) => cell(row[k])).join(' | ')} |\n`,
      );
  }
}
process.stdout.write('\n| script | exit | wall s |\n|---|---|---|\n');
for (const r of results) {
  process.stdout.write(
    `| ${r.script} | ${r.exitCode} | ${(r.wallMs / 1000).toFixed(1)} |\n`,
  );
}
process.exit(results.some((r) => r.exitCode !== 0) ? 1 : 0);
