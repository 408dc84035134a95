#!/usr/bin/env node
// End-to-end: file → Kafka (librdkafka mock broker from scripts/services.sh)
// through the real lc-agent (built dist), next to two baselines measured in
// the same run on the same corpus and broker:
//   - kcat -P -l (librdkafka, C): the floor for producing these lines;
//   - a plain kafkajs producer loop (the agent's own Kafka client, same batch
//     size 1000, 4 sends in flight, acks -1, no compression), in a child
//     process: what the client library costs without the agent around it.
// Delivered lines are the topic's high watermarks (sum over partitions).
//
//   node bench/e2e-kafka.mjs                        2,000,000 lines
//   LC_BENCH_LINES=200000 node bench/e2e-kafka.mjs  a quicker run
//   LC_KAFKA_BROKERS=host:port overrides .lc-services.env
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeCorpus } from './corpus.mjs';
import { cpuSeconds, peakRssMb, spawnBuiltAgent } from './lib/agent-proc.mjs';
import {
  killAtCleanup,
  loadAvg,
  onCleanup,
  report,
  requireFrom,
  root,
  runScenario,
  sendCorpusInBatches,
  servicesEnv,
  sleep,
  stopAgent,
  tempDir,
  timedCommand,
} from './lib/e2e-util.mjs';

const LINES = Number(process.env.LC_BENCH_LINES ?? 2_000_000);
const { Kafka, logLevel } = requireFrom('sinks')('kafkajs');

/** Child mode: the kafkajs baseline producer. */
async function kafkajsBaseline(corpus, topic, broker) {
  const kafka = new Kafka({
    clientId: 'lc-bench-baseline',
    brokers: [broker],
    logLevel: logLevel.ERROR,
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    idempotent: false,
  });
  await producer.connect();
  await sendCorpusInBatches(corpus, {
    toItem: (value) => ({ key: 'bench', value }),
    send: (messages) => producer.send({ topic, acks: -1, messages }),
  });
  await producer.disconnect();
}

async function highWatermarks(admin, topic) {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((a, p) => a + Number(p.high), 0);
  } catch {
    return 0; // not created yet
  }
}

async function main() {
  const env = servicesEnv();
  const broker = (env.LC_KAFKA_BROKERS ?? '').split(',')[0];
  if (!broker) throw new Error('LC_KAFKA_BROKERS not set (.lc-services.env)');
  const kafka = new Kafka({
    clientId: 'lc-bench-admin',
    brokers: [broker],
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  onCleanup(() => admin.disconnect());
  const run = `lc-bench-${process.pid}-${Date.now()}`;
  const topics = {
    agent: `${run}-agent`,
    kcat: `${run}-kcat`,
    kafkajs: `${run}-kafkajs`,
  };
  // The mock cluster has no controller for CreateTopics: topics are created
  // on first produce (auto-creation, the mock's default partition count).
  onCleanup(() =>
    admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {}),
  );

  const dir = tempDir('lc-bench-kafka-');
  mkdirSync(join(dir, 'logs'));
  const corpus = join(dir, 'corpus.log');
  writeCorpus(corpus, LINES);
  const bytes = statSync(corpus).size;
  const loadBefore = loadAvg();

  const row = (label, seconds, cpu, rss, lines) => ({
    scenario: label,
    lines,
    'lines/s': Math.round(lines / seconds),
    'MB/s': +(bytes / 2 ** 20 / seconds).toFixed(1),
    'cpu s': +cpu.toFixed(2),
    'cpu s / M lines': +((cpu / lines) * 1e6).toFixed(2),
    'peak RSS MB': +rss.toFixed(0),
  });
  const rows = [];

  // Baseline 1: kcat (librdkafka) producing the same file, acks=all.
  const kcat = await timedCommand('kcat', [
    '-P',
    '-b',
    broker,
    '-t',
    topics.kcat,
    '-X',
    'acks=all',
    '-l',
    corpus,
  ]);
  const kcatGot = await highWatermarks(admin, topics.kcat);
  rows.push(
    row(
      'baseline: kcat -P -l (librdkafka)',
      kcat.seconds,
      kcat.cpu,
      kcat.rss,
      kcatGot,
    ),
  );

  // Baseline 2: kafkajs producer loop in a child process.
  const kjs = await timedCommand(process.execPath, [
    join(root, 'bench', 'e2e-kafka.mjs'),
    '--kafkajs-baseline',
    corpus,
    topics.kafkajs,
    broker,
  ]);
  if (kjs.code !== 0) throw new Error(`kafkajs baseline failed: ${kjs.stderr}`);
  const kjsGot = await highWatermarks(admin, topics.kafkajs);
  rows.push(
    row(
      'baseline: kafkajs producer loop (node)',
      kjs.seconds,
      kjs.cpu,
      kjs.rss,
      kjsGot,
    ),
  );

  // The agent: file source → kafka sink (text values, acks -1, no compression).
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data, log_level: info}
api: {port: 0}
sources: {files: [{include: ["${dir}/logs/*.log"], poll_interval: 100ms}]}
positions: {flush_interval: 1s}
sinks:
  kafka: [{name: kafka, brokers: ["${broker}"], topic: ${topics.agent}, format: text}]
`,
  );
  const agent = spawnBuiltAgent(root, config);
  killAtCleanup(agent);
  await agent.ready();
  const pid = agent.child.pid;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  renameSync(corpus, join(dir, 'logs', 'app.log'));
  let got = 0;
  let last = 0;
  let lastChange = Date.now();
  while (got < LINES && Date.now() - lastChange < 60_000) {
    await sleep(200);
    got = await highWatermarks(admin, topics.agent);
    if (got !== last) {
      last = got;
      lastChange = Date.now();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const rss = peakRssMb(pid);
  await stopAgent(agent);
  rows.unshift(row('file → Kafka mock broker (agent)', seconds, cpu, rss, got));

  console.log(
    `corpus ${LINES.toLocaleString('en-US')} lines (${(bytes / 2 ** 20).toFixed(0)} MiB), broker ${broker}; load ${loadBefore} → ${loadAvg()}`,
  );
  report('file → Kafka', rows, {
    delivered: { agent: got, kcat: kcatGot, kafkajs: kjsGot, expected: LINES },
  });
  console.log(
    `agent delivered ${got}/${LINES}; agent/kcat throughput ${(rows[0]['lines/s'] / rows[1]['lines/s']).toFixed(3)}, agent/kafkajs ${(rows[0]['lines/s'] / rows[2]['lines/s']).toFixed(3)}`,
  );
  if (got !== LINES)
    console.log(
      `note: ${got - LINES} lines more/fewer than written (high watermarks count every copy)`,
    );
}

if (process.argv[2] === '--kafkajs-baseline') {
  const [corpus, topic, broker] = process.argv.slice(3);
  await kafkajsBaseline(corpus, topic, broker);
} else {
  await runScenario(main);
}
