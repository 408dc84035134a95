// Processing cost per step: CPU seconds per million lines (user + system,
// process.cpuUsage) for each built-in step alone, the agent's default
// pipeline (embedded config: level_extract) and a typical JSON app pipeline.
// Prints figures; never asserts. Needs `pnpm --filter @lc/processing build`.
//
//   node --expose-gc bench/processing.mjs
//   LC_BENCH_RECORDS=1000000 …            records per scenario (default 200,000)
//   LC_BENCH_ONLY=redact,json              only scenarios whose name contains one
//   LC_BENCH_PROCESSING_MODULE=/path.mjs  another build exporting createProcessor
//                                         and pipelineSchema (e.g. an older one,
//                                         to compare before/after)
//
// Each scenario runs LC_BENCH_REPEATS times (default 5) after a warm-up; the
// median is printed, so one descheduled run on a busy machine does not skew it.
import { pathToFileURL } from 'node:url';

const moduleUrl =
  process.env.LC_BENCH_PROCESSING_MODULE === undefined
    ? new URL('../packages/processing/dist/index.js', import.meta.url).href
    : pathToFileURL(process.env.LC_BENCH_PROCESSING_MODULE).href;
const { createProcessor, pipelineSchema } = await import(moduleUrl);

const N = Number(
  process.env.LC_BENCH_RECORDS ??
    (process.env.LC_BENCH_FULL === '1' ? 1_000_000 : 200_000),
);
const REPEATS = Number(process.env.LC_BENCH_REPEATS ?? 5);
const labels = Object.freeze({
  job: 'bench',
  filename: '/var/log/app.log',
  host: 'node-1',
});
const source = Object.freeze({ kind: 'file', id: '1:2' });
const now = Date.now();

const LINES = {
  plain: (i, level) =>
    `2026-11-23 12:00:00 ${level.toUpperCase()} [worker-${i % 8}] request ${i} done in ${i % 1000}ms`,
  json: (i, level) =>
    `{"time":"2026-11-23T12:00:${String(i % 60).padStart(2, '0')}.123Z","level":"${level}","msg":"request ${i} done","user":"u${i % 100}","latency_ms":${i % 1000}}`,
  logfmt: (i, level) =>
    `time=2026-11-23T12:00:00Z level=${level} msg="request ${i} done" user=u${i % 100} latency_ms=${i % 1000}`,
  // One line in ten carries secrets (a password, a token, an email, a card).
  secrets: (i) =>
    i % 10 === 0
      ? `login user=bob@example.com password=hunter${i} token=abc${i} card 4111 1111 1111 1111`
      : `GET /api/items/${i} 200 ${i % 1000}ms`,
};

function corpus(kind) {
  const out = new Array(N);
  for (let i = 0; i < N; i++) {
    const level = ['info', 'warn', 'error', 'debug'][i % 4];
    out[i] = {
      line: LINES[kind](i, level),
      labels,
      source,
      cursor: { offset: i * 100, line: i },
      timestampMs: now,
      timestampNanos: 0,
    };
  }
  return out;
}

const scenarios = [
  { name: 'passthrough (no steps)', kind: 'plain', steps: [] },
  { name: 'json_parse', kind: 'json', steps: [{ type: 'json_parse' }] },
  {
    name: 'regex_extract',
    kind: 'plain',
    steps: [
      {
        type: 'regex_extract',
        pattern:
          '^(?<date>\\S+ \\S+) (?<level>[A-Z]+) \\[(?<worker>[^\\]]+)\\]',
        labels: ['level'],
      },
    ],
  },
  { name: 'logfmt_parse', kind: 'logfmt', steps: [{ type: 'logfmt_parse' }] },
  {
    name: 'timestamp_parse (regex over the line)',
    kind: 'plain',
    steps: [
      {
        type: 'timestamp_parse',
        pattern: '^(\\S+ \\S+)',
        max_past: '3650d',
      },
    ],
  },
  { name: 'level_extract', kind: 'plain', steps: [{ type: 'level_extract' }] },
  {
    name: 'labels_add',
    kind: 'plain',
    steps: [{ type: 'labels_add', labels: { env: 'prod' } }],
  },
  {
    name: 'labels_remove',
    kind: 'plain',
    steps: [{ type: 'labels_remove', labels: ['host'] }],
  },
  {
    name: 'labels_rename',
    kind: 'plain',
    steps: [{ type: 'labels_rename', mapping: { host: 'hostname' } }],
  },
  {
    name: 'redact (all rules, 10% with secrets)',
    kind: 'secrets',
    steps: [{ type: 'redact' }],
  },
  {
    name: 'redact (all rules, clean lines)',
    kind: 'plain',
    steps: [{ type: 'redact' }],
  },
  {
    name: 'drop (line_matches)',
    kind: 'plain',
    steps: [{ type: 'drop', when: { line_matches: ' DEBUG ' } }],
  },
  { name: 'sample 50%', kind: 'plain', steps: [{ type: 'sample', rate: 0.5 }] },
  {
    name: 'default pipeline (embedded config)',
    kind: 'plain',
    steps: [{ type: 'level_extract' }],
  },
  {
    name: 'json app: parse+time+level+labels+redact',
    kind: 'json',
    steps: [
      { type: 'json_parse', metadata: ['user'], message_field: 'msg' },
      { type: 'timestamp_parse', field: 'time', max_past: '3650d' },
      { type: 'level_extract' },
      { type: 'labels_add', labels: { env: 'prod' } },
      { type: 'redact' },
    ],
  },
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(p, records) {
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  let kept = 0;
  for (let i = 0; i < records.length; i++)
    if (p.process(records[i]) !== undefined) kept++;
  const used = process.cpuUsage(cpu);
  // CPU seconds for these records, scaled to a million lines.
  return {
    cpuSPerM: ((used.user + used.system) / 1e6) * (1e6 / records.length),
    kept,
  };
}

console.log(
  `processing benchmark: ${N} records per scenario, median of ${REPEATS}, node ${process.version}`,
);
console.log(`module: ${moduleUrl}`);
console.log(
  `${'scenario'.padEnd(42)} ${'CPU-s/M lines'.padStart(13)} ${'net of passthrough'.padStart(19)}  kept`,
);
const corpora = {};
let base;
const only = process.env.LC_BENCH_ONLY?.split(',');
for (const s of scenarios) {
  if (only !== undefined && !s.name.startsWith('passthrough'))
    if (!only.some((o) => s.name.includes(o))) continue;
  const records = (corpora[s.kind] ??= corpus(s.kind));
  const p = createProcessor({
    pipelines: [pipelineSchema.parse({ name: 'bench', steps: s.steps })],
  });
  for (let i = 0; i < 20_000; i++) p.process(records[i % records.length]); // warm-up
  const runs = Array.from({ length: REPEATS }, () => measure(p, records));
  const cpu = median(runs.map((r) => r.cpuSPerM));
  base ??= cpu;
  console.log(
    `${s.name.padEnd(42)} ${cpu.toFixed(3).padStart(13)} ${(cpu - base).toFixed(3).padStart(19)}  ${runs[0].kept}`,
  );
  console.log(
    `processing-result ${JSON.stringify({ scenario: s.name, cpuSecondsPerMillionLines: Number(cpu.toFixed(4)) })}`,
  );
}
