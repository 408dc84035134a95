// Processing pipeline throughput (records/s) for typical step mixes.
// Prints figures; never asserts. Needs `pnpm --filter @lc/agent build`.
import {
  createProcessor,
  pipelineSchema,
} from '../packages/agent/dist/processing/index.js';

const N = Number(
  process.env.LC_BENCH_RECORDS ??
    (process.env.LC_BENCH_FULL === '1' ? 1_000_000 : 200_000),
);
const labels = Object.freeze({ job: 'bench', filename: '/var/log/app.log' });
const source = Object.freeze({ kind: 'file', id: '1:2' });
const now = Date.now();

function corpus(kind) {
  const out = new Array(N);
  for (let i = 0; i < N; i++) {
    const level = ['info', 'warn', 'error', 'debug'][i % 4];
    let line;
    if (kind === 'json')
      line = `{"time":"2026-11-23T12:00:${String(i % 60).padStart(2, '0')}.123Z","level":"${level}","msg":"request ${i} done","user":"u${i % 100}","latency_ms":${i % 1000}}`;
    else if (kind === 'logfmt')
      line = `time=2026-11-23T12:00:00Z level=${level} msg="request ${i} done" user=u${i % 100} latency_ms=${i % 1000}`;
    else if (kind === 'secrets')
      line =
        i % 10 === 0
          ? `login user=bob@example.com password=hunter${i} token=abc${i} card 4111 1111 1111 1111`
          : `GET /api/items/${i} 200 ${i % 1000}ms`;
    else
      line = `2026-11-23 12:00:00 ${level.toUpperCase()} [worker-${i % 8}] request ${i} done in ${i % 1000}ms`;
    out[i] = {
      line,
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
  {
    name: 'level_extract (regex)',
    kind: 'plain',
    steps: [{ type: 'level_extract' }],
  },
  {
    name: 'regex_extract + labels_add',
    kind: 'plain',
    steps: [
      {
        type: 'regex_extract',
        pattern:
          '^(?<date>\\S+ \\S+) (?<level>[A-Z]+) \\[(?<worker>[^\\]]+)\\]',
        labels: ['level'],
      },
      { type: 'labels_add', labels: { env: 'prod' } },
    ],
  },
  {
    name: 'json_parse + timestamp + level + labels',
    kind: 'json',
    steps: [
      { type: 'json_parse', metadata: ['user'] },
      { type: 'timestamp_parse', field: 'time', max_past: '3650d' },
      { type: 'level_extract' },
      { type: 'labels_add', labels: { env: 'prod' } },
    ],
  },
  {
    name: 'logfmt_parse + level',
    kind: 'logfmt',
    steps: [{ type: 'logfmt_parse' }, { type: 'level_extract' }],
  },
  {
    name: 'redact (all rules), 10% with secrets',
    kind: 'secrets',
    steps: [{ type: 'redact' }],
  },
  {
    name: 'drop debug + sample 50%',
    kind: 'plain',
    steps: [
      { type: 'level_extract' },
      { type: 'drop', when: { level: ['debug'] } },
      { type: 'sample', rate: 0.5 },
    ],
  },
];

console.log(
  `processing benchmark: ${N} records per scenario, node ${process.version}`,
);
for (const s of scenarios) {
  const records = corpus(s.kind);
  const p = createProcessor({
    pipelines: [pipelineSchema.parse({ name: 'bench', steps: s.steps })],
  });
  for (let i = 0; i < 20_000; i++) p.process(records[i]); // warm-up
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  let kept = 0;
  for (let i = 0; i < records.length; i++)
    if (p.process(records[i]) !== undefined) kept++;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rate = Math.round(records.length / seconds);
  console.log(
    `${s.name.padEnd(42)} ${rate.toLocaleString('en-US').padStart(12)} records/s  (${((seconds * 1e9) / records.length).toFixed(0)} ns/record, kept ${kept})`,
  );
}
